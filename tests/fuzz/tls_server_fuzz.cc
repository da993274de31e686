// libFuzzer target for the server side of eddy's TLS transport
// (net/internal/tls_transport.h): arbitrary bytes arrive as ciphertext in
// pieces (each input byte before a piece gives its length, 1 to 64) and
// drive the handshake and then decryption. Every failure must say why, and
// nothing may crash or leak, whatever the bytes.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "eddy/core/buffer.h"
#include "eddy/net/internal/tls_transport.h"
#include "eddy/net/tls_context.h"

namespace {

// A throw-away P-256 key and self-signed certificate, written where
// TlsContext can load them.
std::shared_ptr<const eddy::TlsContext> MakeContext() {
  char dir[] = "/tmp/eddy-tls-fuzz-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  const std::string cert_path = std::string(dir) + "/cert.pem";
  const std::string key_path = std::string(dir) + "/key.pem";
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) std::abort();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  if (X509_sign(cert, key, EVP_sha256()) == 0) std::abort();
  FILE* cert_file = std::fopen(cert_path.c_str(), "w");
  FILE* key_file = std::fopen(key_path.c_str(), "w");
  if (cert_file == nullptr || key_file == nullptr) std::abort();
  PEM_write_X509(cert_file, cert);
  PEM_write_PrivateKey(key_file, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(cert_file);
  std::fclose(key_file);
  X509_free(cert);
  EVP_PKEY_free(key);
  eddy::TlsServerOptions options;
  options.certificate_chain_file = cert_path;
  options.private_key_file = key_path;
  options.alpn = {"http/1.1"};
  auto context = eddy::TlsContext::ForServer(options);
  ::unlink(cert_path.c_str());
  ::unlink(key_path.c_str());
  ::rmdir(dir);
  if (!context.ok()) std::abort();
  return *context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const eddy::TlsContext> context = MakeContext();
  auto transport = eddy::TlsTransport::Create(context, "");
  if (!transport.ok()) std::abort();
  eddy::TlsTransport& tls = **transport;
  eddy::Buffer plaintext;
  size_t offset = 0;
  while (offset < size) {
    const size_t length =
        std::min<size_t>(1 + data[offset] % 64, size - offset - 1);
    ++offset;
    tls.ciphertext_in().Append(data + offset, length);
    offset += length;
    const eddy::TlsTransport::Progress progress =
        tls.handshake_done() ? tls.Decrypt(plaintext) : tls.Handshake();
    if (progress == eddy::TlsTransport::Progress::kFailed) {
      if (tls.error().ok()) std::abort();
      break;
    }
    if (progress == eddy::TlsTransport::Progress::kPeerClosed) break;
    // What the server would send; a real peer never reads it here.
    tls.ciphertext_out().ConsumeAll();
    plaintext.ConsumeAll();
  }
  return 0;
}
