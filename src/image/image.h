/*
 * image: the one place that encodes images (libgd, libqrencode): captcha
 * pictures and QR codes, as PNG. Services ask for a PNG and never include
 * an image library themselves (the include lint, scripts/lint-includes.py,
 * refuses it).
 *
 * Thread-safe: every call works on its own image.
 */
#ifndef ANFU_IMAGE_IMAGE_H
#define ANFU_IMAGE_IMAGE_H

#include <stddef.h>

/* Draws text (1..15 printable ASCII characters) as a noisy 160x60 PNG.
 * *ret_png is malloc'd and owned by the caller; both outputs are written
 * only on success. ANFU_EINVAL for bad text, ANFU_EINTERNAL when libgd
 * fails. */
int anfu_image_captcha_png(const char *text, unsigned char **ret_png, size_t *ret_len);

/* Encodes uri as a QR code (error correction level M, 8-bit mode) drawn
 * as a PNG with 4-pixel modules and a 4-module quiet zone. *ret_png is
 * malloc'd and owned by the caller; both outputs are written only on
 * success. ANFU_EINVAL for an empty uri, ANFU_EINTERNAL when encoding
 * fails. */
int anfu_image_qr_png(const char *uri, unsigned char **ret_png, size_t *ret_len);

#endif
