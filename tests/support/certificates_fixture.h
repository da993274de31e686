#ifndef EDDY_TESTS_SUPPORT_CERTIFICATES_FIXTURE_H_
#define EDDY_TESTS_SUPPORT_CERTIFICATES_FIXTURE_H_

#include "absl/status/statusor.h"
#include "eddy/net/tls_context.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"

namespace eddy::testing {

// The base of every fixture whose tests need TLS certificates: a fresh set
// per test in certs_, removed after it. Where the openssl tool cannot make
// them the test is skipped, with the reason. A derived SetUp calls this one
// first and returns if IsSkipped(); a derived TearDown calls this one last.
class WithTestCertificates : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> made = MakeTestCertificates();
    if (!made.ok()) GTEST_SKIP() << "no test certificates: " << made.status();
    certs_ = *std::move(made);
  }
  void TearDown() override {
    if (!certs_.dir.empty()) RemoveTestCertificates(certs_);
  }

  // A server that presents certs_'s server certificate.
  TlsServerOptions ServerTls() const {
    TlsServerOptions tls;
    tls.certificate_chain_file = certs_.server_cert;
    tls.private_key_file = certs_.server_key;
    return tls;
  }

  TestCertificates certs_;
};

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_CERTIFICATES_FIXTURE_H_
