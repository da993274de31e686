#include "tests/support/test_certificates.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/support/run_command.h"

namespace eddy::testing {
namespace {

constexpr char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

absl::Status Run(const std::string& dir, const std::string& command) {
  // RunCommand runs the command under timeout(1), without a shell.
  const CommandResult result =
      RunCommand(absl::StrCat("sh -c \"cd '", dir, "' && ", command, "\""));
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` failed: ", result.output));
  }
  return absl::OkStatus();
}

// A key and a certificate for `subject`, signed by the test CA, with the
// extensions in `extensions` (an openssl extfile's lines).
absl::Status Issue(const std::string& dir, const std::string& name,
                   const std::string& subject, const std::string& extensions) {
  std::ofstream(absl::StrCat(dir, "/", name, ".ext")) << extensions;
  if (absl::Status s =
          Run(dir, absl::StrCat("openssl req ", kNewKey, " -keyout ", name,
                                ".key -out ", name, ".csr -subj ", subject));
      !s.ok()) {
    return s;
  }
  return Run(dir, absl::StrCat("openssl x509 -req -in ", name,
                               ".csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                               "-days 2 -out ",
                               name, ".pem -extfile ", name, ".ext"));
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates() {
  if (!HaveTool("openssl")) {
    return absl::NotFoundError("the openssl tool is not installed");
  }
  std::string pattern =
      (std::filesystem::temp_directory_path() / "eddy-tls-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  TestCertificates c;
  c.dir = pattern;
  const auto path = [&c](const char* name) {
    return absl::StrCat(c.dir, "/", name);
  };
  const auto self_signed = [&](const char* name, const char* subject) {
    return Run(c.dir, absl::StrCat("openssl req -x509 ", kNewKey, " -keyout ",
                                   name, ".key -out ", name,
                                   ".pem -days 2 -subj ", subject));
  };
  absl::Status s = self_signed("ca", "/CN=eddy-test-ca");
  if (s.ok()) {
    s = Issue(c.dir, "server", "/CN=localhost",
              "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
              "basicConstraints=CA:FALSE\n"
              "extendedKeyUsage=serverAuth\n");
  }
  if (s.ok()) {
    s = Issue(c.dir, "client", "/CN=eddy-test-client",
              "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  }
  if (s.ok()) s = self_signed("other-ca", "/CN=eddy-other-ca");
  if (s.ok()) s = self_signed("other", "/CN=eddy-other");
  if (!s.ok()) {
    std::filesystem::remove_all(c.dir);
    return s;
  }
  c.ca = path("ca.pem");
  c.server_cert = path("server.pem");
  c.server_key = path("server.key");
  c.client_cert = path("client.pem");
  c.client_key = path("client.key");
  c.other_ca = path("other-ca.pem");
  c.other_cert = path("other.pem");
  c.other_key = path("other.key");
  return c;
}

void RemoveTestCertificates(const TestCertificates& certificates) {
  std::error_code ignored;
  std::filesystem::remove_all(certificates.dir, ignored);
}

}  // namespace eddy::testing
