#ifndef EDDY_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define EDDY_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

namespace eddy::testing {

// PEM files for TLS tests, made fresh (ECDSA P-256, valid two days) in a
// temporary directory by `openssl req` / `openssl x509`.
struct TestCertificates {
  std::string dir;
  std::string ca;           // the test CA's certificate
  std::string server_cert;  // for "localhost" and 127.0.0.1, from the CA
  std::string server_key;
  std::string client_cert;  // CN=eddy-test-client, from the CA
  std::string client_key;
  std::string other_ca;    // a CA that signed nothing here
  std::string other_cert;  // self-signed, CN=eddy-other, for reloads
  std::string other_key;
};

// Makes the files; fails if the openssl tool is missing or fails. The
// directory is removed by RemoveTestCertificates.
absl::StatusOr<TestCertificates> MakeTestCertificates();
void RemoveTestCertificates(const TestCertificates& certificates);

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_TEST_CERTIFICATES_H_
