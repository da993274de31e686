#include "examples/tls_flags.h"

#include <utility>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS (with --tls_key); SIGHUP reloads "
          "both files");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");

namespace eddy {

absl::StatusOr<std::optional<TlsServerOptions>> TlsOptionsFromFlags(
    std::vector<std::string> alpn) {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  if (cert.empty() && key.empty()) return std::nullopt;
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key go together: pass both or neither");
  }
  TlsServerOptions tls;
  tls.certificate_chain_file = cert;
  tls.private_key_file = key;
  tls.alpn = std::move(alpn);
  return tls;
}

}  // namespace eddy
