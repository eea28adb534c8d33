#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <libssh2_publickey.h>
/* In-process signing with keys loaded once (libssh2 1.10 re-imports a key file per connection). */
#include <openssl/evp.h>

#ifdef __linux__
/* The reactor's readiness source (Glibc's Swift module does not export these headers). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

/* Macros that Swift cannot import, as inline functions. */
static inline unsigned long clibssh2_version_num(void) { return LIBSSH2_VERSION_NUM; }
static inline unsigned int clibssh2_channel_window_default(void) { return LIBSSH2_CHANNEL_WINDOW_DEFAULT; }
static inline unsigned int clibssh2_channel_packet_default(void) { return LIBSSH2_CHANNEL_PACKET_DEFAULT; }
static inline int clibssh2_evp_pkey_ed25519(void) { return EVP_PKEY_ED25519; }
#endif
