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
 * zone. Returns the gd image or NULL. Writes the palette rows directly
 * (gdImagePalettePixel's rows, public in gd.h): one row of pixels per row
 * of modules, copied QR_MODULE_PX times. Filling rectangles through
 * gdImageSetPixel took a third of the image's time (a payment code's QR:
 * 163 -> 110 us on the 2-core bench VM; the rest is libqrencode's mask
 * choice and libpng). */
static gdImagePtr qr_image(const QRcode *q)
{
	int side = (q->width + 2 * QR_QUIET) * QR_MODULE_PX;
	unsigned char row[(QR_MAX_WIDTH + 2 * QR_QUIET) * QR_MODULE_PX];
	gdImagePtr im = gdImageCreate(side, side);
	int white, black;

	if (!im)
		return NULL;
	white = gdImageColorAllocate(im, 255, 255, 255);
	black = gdImageColorAllocate(im, 0, 0, 0);
	if (white < 0 || black < 0 || gdImageTrueColor(im)) {
		gdImageDestroy(im);
		return NULL;
	}
	memset(row, white, (size_t)side);
	for (int y = 0; y < QR_QUIET * QR_MODULE_PX; y++) {
		memcpy(im->pixels[y], row, (size_t)side);
		memcpy(im->pixels[side - 1 - y], row, (size_t)side);
	}
	for (int my = 0; my < q->width; my++) {
		int py = (my + QR_QUIET) * QR_MODULE_PX;

		for (int mx = 0; mx < q->width; mx++)
			memset(row + (mx + QR_QUIET) * QR_MODULE_PX,
			       (q->data[my * q->width + mx] & 1) ? black : white, QR_MODULE_PX);
		for (int k = 0; k < QR_MODULE_PX; k++)
			memcpy(im->pixels[py + k], row, (size_t)side);
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
