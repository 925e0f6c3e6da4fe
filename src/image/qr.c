/*
 * image/qr: a QR code as a PNG (TOTP enrolment, IAM-MFA-01).
 *
 * The QR symbol is libqrencode's (error correction level M, 8-bit mode),
 * drawn with libgd. Owns nothing beyond the PNG it hands over. Trusts
 * libqrencode and libgd; bounds the symbol's width.
 */
#include <stdlib.h>
#include <string.h>

#include <gd.h>
#include <qrencode.h>

#include "base/err.h"
#include "base/mem.h"
#include "image/image.h"

#define QR_MODULE_PX 4
#define QR_QUIET 4	 /* quiet zone, in modules (ISO/IEC 18004) */
#define QR_MAX_WIDTH 177 /* version 40 */

/* Draws a QR symbol: black modules of QR_MODULE_PX on white with a quiet
 * zone. Returns the gd image or NULL. */
static gdImagePtr qr_image(const QRcode *q)
{
	int side = (q->width + 2 * QR_QUIET) * QR_MODULE_PX;
	gdImagePtr im = gdImageCreate(side, side);
	int white, black;

	if (!im)
		return NULL;
	white = gdImageColorAllocate(im, 255, 255, 255);
	black = gdImageColorAllocate(im, 0, 0, 0);
	gdImageFilledRectangle(im, 0, 0, side - 1, side - 1, white);
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width; x++) {
			int px = (x + QR_QUIET) * QR_MODULE_PX, py = (y + QR_QUIET) * QR_MODULE_PX;

			if (q->data[y * q->width + x] & 1)
				gdImageFilledRectangle(im, px, py, px + QR_MODULE_PX - 1,
						       py + QR_MODULE_PX - 1, black);
		}
	}
	return im;
}

/* Encodes uri as a QR code (error correction level M, 8-bit mode) drawn
 * as a PNG with 4-pixel modules and a 4-module quiet zone. *ret_png is
 * malloc'd and owned by the caller; outputs are written only on success.
 * ANFU_EINVAL for an empty or too long uri. Thread-safe. */
int anfu_image_qr_png(const char *uri, unsigned char **ret_png, size_t *ret_len)
{
	QRcode *q = NULL;
	gdImagePtr im = NULL;
	void *gdpng = NULL;
	unsigned char *png = NULL;
	int size = 0, r = ANFU_EINVAL;

	if (!uri || !*uri || !ret_png || !ret_len)
		return ANFU_EINVAL;
	q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q || q->width <= 0 || q->width > QR_MAX_WIDTH)
		goto out;
	r = ANFU_EINTERNAL;
	im = qr_image(q);
	if (!im)
		goto out;
	gdpng = gdImagePngPtr(im, &size);
	if (!gdpng || size <= 0)
		goto out;
	png = anfu_xmalloc((size_t)size);
	memcpy(png, gdpng, (size_t)size);
	*ret_png = png;
	*ret_len = (size_t)size;
	r = 0;
out:
	if (gdpng)
		gdFree(gdpng);
	if (im)
		gdImageDestroy(im);
	if (q)
		QRcode_free(q);
	return r;
}
