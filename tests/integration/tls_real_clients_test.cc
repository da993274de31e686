// eddy-httpd --tls_cert/--tls_key against real HTTPS clients that
// tls_tools_test.cc does not cover: wrk over https, and headless Chromium
// loading the demo page with the test certificate trusted by its public key.
// Each skips with a reason when its client is not installed; every run is
// short and bounded.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_certificates.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::Output;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;

class TlsRealClientsTest : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    httpd_ = std::make_unique<ProgramProcess>(
        LoopbackProgram(EDDY_HTTPD_PATH, 2,
                        {"--tls_cert=" + certs_.server_cert,
                         "--tls_key=" + certs_.server_key}));
    ASSERT_NE(httpd_->port(), 0)
        << "eddy-httpd did not start: " << httpd_->start_line();
  }
  void TearDown() override {
    if (httpd_ != nullptr) {
      EXPECT_EQ(httpd_->Stop(), 0);
    }
    WithTestCertificates::TearDown();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("https://127.0.0.1:", httpd_->port(), path);
  }

  std::unique_ptr<ProgramProcess> httpd_;
};

TEST_F(TlsRealClientsTest, WrkOverHttpsHasNoSocketErrors) {
  if (!HaveTool("wrk"))
    GTEST_SKIP() << "no wrk installed (apt-get install wrk)";
  CommandResult wrk = RunCommand(absl::StrCat("wrk -t1 -c8 -d2s ", Url("/")),
                                 absl::Seconds(60));
  ASSERT_EQ(wrk.exit_code, 0) << wrk.output;
  // "N requests in 2.00s, ...": wrk counts complete responses only.
  const size_t at = wrk.output.find(" requests in ");
  ASSERT_NE(at, std::string::npos) << wrk.output;
  const size_t start = wrk.output.find_last_not_of("0123456789", at - 1) + 1;
  EXPECT_GT(std::stoll(wrk.output.substr(start, at - start)), 0) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Socket errors")) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Non-2xx")) << wrk.output;
}

TEST_F(TlsRealClientsTest, HeadlessChromiumLoadsTheDemoPageOverHttps) {
  const std::string browser = eddy::testing::FindChromium();
  if (browser.empty())
    GTEST_SKIP() << "no Chromium installed (apt-get install chromium)";
  // Chromium trusts a certificate whose public key's SHA-256 is on this
  // list, without a CA in an NSS database.
  CommandResult spki = RunCommand(
      absl::StrCat("openssl x509 -in ", certs_.server_cert,
                   " -pubkey -noout | openssl pkey -pubin -outform der"
                   " | openssl dgst -sha256 -binary | base64"),
      absl::Seconds(30), Output::kStdout);
  ASSERT_EQ(spki.exit_code, 0) << spki.output;
  const std::string pin(absl::StripAsciiWhitespace(spki.output));
  ASSERT_EQ(pin.size(), 44u) << pin;
  CommandResult dom = eddy::testing::DumpDomWithChromium(
      browser, Url("/static/index.html"),
      "--ignore-certificate-errors-spki-list=" + pin);
  EXPECT_TRUE(absl::StrContains(dom.output, "eddy is serving this page"))
      << dom.output;
}

}  // namespace
