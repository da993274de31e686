// eddy-httpd over TLS (--tls_cert, --tls_key) against real clients: curl
// (TLS 1.2 and 1.3, keep-alive, a 1 MiB static file sent through the TLS
// chunked path), openssl s_client (ALPN, session resumption across
// workers), Python's ssl module, a SIGHUP reload, and redis-cli --tls
// against eddy-redis. Each test skips when its tool is missing.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_client.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::RunCommand;

// A shipped server (`path`) with TLS on a free loopback port, two workers,
// given `flags` too; SIGTERM stops it.
class TlsServerProcess {
 public:
  TlsServerProcess(const char* path, const std::string& cert,
                   const std::string& key, std::vector<std::string> flags = {})
      : process_(Launch(path, cert, key, std::move(flags))) {}

  int Stop() { return process_.exited() ? -1 : process_.Stop(); }
  // The next line the server prints ("" at EOF or after a generous wait):
  // use after something that makes it print (SIGHUP).
  std::string ReadLine() { return process_.ReadLine(absl::Seconds(60)); }
  void Reload() { ::kill(process_.pid(), SIGHUP); }

  int port() const { return process_.port(); }
  const std::string& start_line() const { return process_.start_line(); }
  std::string url(const std::string& path) const {
    return absl::StrCat("https://localhost:", port(), path);
  }

 private:
  static eddy::testing::ProgramLaunch Launch(const char* path,
                                             const std::string& cert,
                                             const std::string& key,
                                             std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"--tls_cert=" + cert, "--tls_key=" + key});
    return eddy::testing::LoopbackProgram(path, 2, std::move(flags));
  }

  eddy::testing::ProgramProcess process_;
};

class TlsToolsTest : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    // Copies the server replaces on reload.
    cert_ = certs_.dir + "/live.pem";
    key_ = certs_.dir + "/live.key";
    std::filesystem::copy_file(certs_.server_cert, cert_);
    std::filesystem::copy_file(certs_.server_key, key_);
    root_ = certs_.dir + "/www";
    std::filesystem::create_directory(root_);
    std::ofstream(root_ + "/big.bin", std::ios::binary)
        << eddy::testing::RandomBytes(1 << 20, 11);
    server_ = std::make_unique<TlsServerProcess>(
        EDDY_HTTPD_PATH, cert_, key_,
        std::vector<std::string>{"--root=" + root_});
    ASSERT_GT(server_->port(), 0) << "no start line: " << server_->start_line();
    EXPECT_TRUE(absl::StrContains(server_->start_line(), "https://"))
        << server_->start_line();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << "exit status";
    }
    WithTestCertificates::TearDown();
  }

  // Resolves "localhost" to the loopback address the server is on.
  std::string Curl(const std::string& arguments) {
    return absl::StrCat("curl -sS --cacert ", certs_.ca,
                        " --resolve localhost:", server_->port(), ":127.0.0.1 ",
                        arguments);
  }
  std::string SClient(const std::string& arguments) {
    return absl::StrCat(
        "sh -c \"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client "
        "-connect 127.0.0.1:",
        server_->port(), " -servername localhost -verify_return_error -CAfile ",
        certs_.ca, " -ign_eof ", arguments, " 2>&1\"");
  }

  std::string cert_, key_, root_;
  std::unique_ptr<TlsServerProcess> server_;
};

TEST_F(TlsToolsTest, CurlSpeaksTls12And13AndReusesTheConnection) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  for (const char* version : {"--tlsv1.2 --tls-max 1.2", "--tlsv1.3"}) {
    const CommandResult result =
        RunCommand(Curl(absl::StrCat("-v ", version, " ", server_->url("/"),
                                     " ", server_->url("/healthz"))));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const std::string expected =
        absl::StrContains(version, "1.2") ? "TLSv1.2" : "TLSv1.3";
    EXPECT_TRUE(
        absl::StrContains(result.output, "SSL connection using " + expected))
        << result.output;
    EXPECT_TRUE(absl::StrContains(result.output,
                                  "ALPN: server accepted "
                                  "http/1.1"))
        << result.output;
    EXPECT_TRUE(
        absl::StrContains(result.output, "Re-using existing connection"))
        << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "ok\n")) << result.output;
  }
}

TEST_F(TlsToolsTest, CurlFetchesAOneMebibyteStaticFileIntact) {
  if (!HaveTool("curl") || !HaveTool("sha256sum")) {
    GTEST_SKIP() << "curl or sha256sum is not installed";
  }
  const CommandResult expected =
      RunCommand(absl::StrCat("sha256sum ", root_, "/big.bin"));
  ASSERT_EQ(expected.exit_code, 0);
  const std::string fetched = certs_.dir + "/fetched.bin";
  const CommandResult result = RunCommand(
      Curl(absl::StrCat("-o ", fetched, " ", server_->url("/static/big.bin"))));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const CommandResult got = RunCommand("sha256sum " + fetched);
  ASSERT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.output.substr(0, 64), expected.output.substr(0, 64));
}

TEST_F(TlsToolsTest, OpenSslNegotiatesAlpnAndResumesOnEitherWorker) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl is not installed";
  const std::string session = certs_.dir + "/session.pem";
  const CommandResult first =
      RunCommand(SClient("-alpn http/1.1 -sess_out " + session));
  EXPECT_TRUE(absl::StrContains(first.output, "ALPN protocol: http/1.1"))
      << first.output;
  EXPECT_TRUE(absl::StrContains(first.output, "Verify return code: 0 (ok)"))
      << first.output;
  EXPECT_TRUE(absl::StrContains(first.output, " 200 OK")) << first.output;
  // Connections go round-robin over the two workers: resuming twice in a
  // row resumes on both, with the ticket issued by one of them.
  for (int i = 0; i < 2; ++i) {
    const CommandResult again = RunCommand(SClient("-sess_in " + session));
    EXPECT_TRUE(absl::StrContains(again.output, "Reused, TLSv1.3"))
        << again.output;
    EXPECT_TRUE(absl::StrContains(again.output, " 200 OK")) << again.output;
  }
}

TEST_F(TlsToolsTest, PythonSslClientGetsAnAnswer) {
  if (!HaveTool("/usr/bin/python3")) GTEST_SKIP() << "python3 is missing";
  const std::string script = certs_.dir + "/client.py";
  std::ofstream(script) << absl::StrCat(
      "import socket, ssl\n"
      "context = ssl.create_default_context(cafile='",
      certs_.ca, "')\n",
      "context.set_alpn_protocols(['http/1.1'])\n"
      "with socket.create_connection(('127.0.0.1', ",
      server_->port(),
      "), timeout=30) as raw:\n"
      "    with context.wrap_socket(raw, server_hostname='localhost') as s:\n"
      "        s.sendall(b'GET /healthz HTTP/1.0\\r\\n\\r\\n')\n"
      "        answer = b''\n"
      "        while chunk := s.recv(4096):\n"
      "            answer += chunk\n"
      "        print(s.version(), s.selected_alpn_protocol())\n"
      "        print(answer.decode())\n");
  const CommandResult result = RunCommand("/usr/bin/python3 " + script);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "TLSv1.3 http/1.1"))
      << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, " 200 OK")) << result.output;
}

TEST_F(TlsToolsTest, SighupReloadsTheCertificate) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl is not installed";
  // A broken key first: the server says why and keeps serving.
  std::filesystem::copy_file(certs_.other_cert, cert_,
                             std::filesystem::copy_options::overwrite_existing);
  server_->Reload();
  const std::string refused = server_->ReadLine();
  EXPECT_TRUE(absl::StrContains(refused, "does not match")) << refused;
  CommandResult result = RunCommand(SClient(""));
  EXPECT_TRUE(absl::StrContains(result.output, "CN = localhost"))
      << result.output;
  std::filesystem::copy_file(certs_.other_key, key_,
                             std::filesystem::copy_options::overwrite_existing);
  server_->Reload();
  const std::string reloaded = server_->ReadLine();
  EXPECT_TRUE(absl::StrContains(reloaded, "TLS certificate reloaded"))
      << reloaded;
  result = RunCommand(absl::StrCat(
      "sh -c \"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client "
      "-connect 127.0.0.1:",
      server_->port(), " -ign_eof 2>&1\""));
  EXPECT_TRUE(absl::StrContains(result.output, "CN = eddy-other"))
      << result.output;
}

#ifdef EDDY_REDIS_PATH
TEST_F(TlsToolsTest, RedisCliSpeaksTlsToEddyRedis) {
  if (!HaveTool("redis-cli")) GTEST_SKIP() << "redis-cli is not installed";
  TlsServerProcess redis(EDDY_REDIS_PATH, certs_.server_cert,
                         certs_.server_key);
  ASSERT_GT(redis.port(), 0) << "no start line: " << redis.start_line();
  const std::string cli = absl::StrCat("redis-cli --tls --cacert ", certs_.ca,
                                       " -h localhost -p ", redis.port(), " ");
  CommandResult result = RunCommand(cli + "SET greeting tls");
  EXPECT_EQ(result.output, "OK\n");
  result = RunCommand(cli + "GET greeting");
  EXPECT_EQ(result.output, "tls\n");
  // Without TLS the client gets nothing it can read as RESP.
  result = RunCommand(
      absl::StrCat("redis-cli -h localhost -p ", redis.port(), " PING"));
  EXPECT_FALSE(absl::StrContains(result.output, "PONG")) << result.output;
  EXPECT_EQ(redis.Stop(), 0);
}
#endif

}  // namespace
