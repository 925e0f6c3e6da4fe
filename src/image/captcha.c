/*
 * image/captcha: the picture of an image captcha (IAM-CAP-02).
 *
 * The image uses no external font: each character is drawn with one of
 * libgd's built-in bitmap fonts, scaled up, rotated and coloured at
 * random, between layers of noise lines, arcs and dots. Owns nothing
 * beyond the PNG it hands over. Trusts libgd; checks the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gd.h>
#include <gdfontg.h>
#include <gdfontl.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "image/image.h"

#define IMG_W 160
#define IMG_H 60
#define MARGIN 6
#define MAX_LEN 15 /* answer[16] of anfu_captcha_create */

/* Uniform integer in [lo, hi]. */
static int rnd(int lo, int hi)
{
	return lo + (int)anfu_rand_uniform((uint32_t)(hi - lo + 1));
}

static int rnd_colour(int lo, int hi)
{
	return gdTrueColor(rnd(lo, hi), rnd(lo, hi), rnd(lo, hi));
}

/* Lines, arcs and dots in mid tones: under the text they hide the glyph
 * edges, over it they cut through the strokes. */
static void draw_noise(gdImagePtr im, int lines, int arcs, int dots)
{
	for (int i = 0; i < lines; i++) {
		gdImageSetThickness(im, rnd(1, 2));
		gdImageLine(im, rnd(0, IMG_W - 1), rnd(0, IMG_H - 1), rnd(0, IMG_W - 1),
			    rnd(0, IMG_H - 1), rnd_colour(60, 180));
	}
	for (int i = 0; i < arcs; i++) {
		gdImageSetThickness(im, rnd(1, 2));
		gdImageArc(im, rnd(0, IMG_W - 1), rnd(0, IMG_H - 1), rnd(40, 2 * IMG_W),
			   rnd(20, 2 * IMG_H), rnd(0, 359), rnd(0, 359), rnd_colour(60, 180));
	}
	gdImageSetThickness(im, 1);
	for (int i = 0; i < dots; i++)
		gdImageSetPixel(im, rnd(0, IMG_W - 1), rnd(0, IMG_H - 1), rnd_colour(40, 220));
}

/* A truecolor image of w x h, fully transparent, alpha kept on copy. */
static gdImagePtr transparent_image(int w, int h)
{
	gdImagePtr im = gdImageCreateTrueColor(w, h);

	if (!im)
		return NULL;
	gdImageAlphaBlending(im, 0);
	gdImageSaveAlpha(im, 1);
	gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, gdTrueColorAlpha(255, 255, 255, 127));
	return im;
}

/* Draws character c centred near (cx, cy), scaled to about slot_w wide,
 * rotated by a random angle, in a random dark colour. */
static int draw_glyph(gdImagePtr canvas, char c, int cx, int cy, int slot_w)
{
	gdFontPtr font = rnd(0, 1) ? gdFontGetGiant() : gdFontGetLarge();
	gdImagePtr glyph = NULL, big = NULL;
	int w = rnd(slot_w * 3 / 4, slot_w);
	int h = rnd(IMG_H * 11 / 20, IMG_H * 3 / 4);
	int r = ANFU_EINTERNAL;

	glyph = transparent_image(font->w, font->h);
	big = transparent_image(w, h);
	if (!glyph || !big)
		goto out;
	gdImageChar(glyph, font, 0, 0, (unsigned char)c, rnd_colour(0, 110));
	gdImageCopyResampled(big, glyph, 0, 0, 0, 0, w, h, font->w, font->h);
	gdImageCopyRotated(canvas, big, cx, cy, 0, 0, w, h, rnd(-25, 25));
	r = 0;
out:
	if (glyph)
		gdImageDestroy(glyph);
	if (big)
		gdImageDestroy(big);
	return r;
}

static bool text_ok(const char *text, size_t *ret_len)
{
	size_t n;

	if (!text)
		return false;
	n = strnlen(text, MAX_LEN + 1);
	if (n == 0 || n > MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (text[i] < 0x21 || text[i] > 0x7e)
			return false;
	*ret_len = n;
	return true;
}

/* Draws text (1..15 printable ASCII characters) as a noisy 160x60 PNG.
 * *ret_png is malloc'd and owned by the caller; both outputs are written
 * only on success. ANFU_EINVAL for bad text, ANFU_EINTERNAL when libgd
 * fails. Thread-safe. */
int anfu_image_captcha_png(const char *text, unsigned char **ret_png, size_t *ret_len)
{
	gdImagePtr im = NULL;
	void *gdpng = NULL;
	unsigned char *png = NULL;
	int size = 0, slot_w, r;
	size_t n;

	if (!ret_png || !ret_len || !text_ok(text, &n))
		return ANFU_EINVAL;
	r = ANFU_EINTERNAL;
	im = gdImageCreateTrueColor(IMG_W, IMG_H);
	if (!im)
		goto out;
	gdImageFilledRectangle(im, 0, 0, IMG_W - 1, IMG_H - 1, rnd_colour(215, 255));
	draw_noise(im, rnd(4, 6), rnd(2, 3), rnd(250, 350));
	slot_w = (IMG_W - 2 * MARGIN) / (int)n;
	for (size_t i = 0; i < n; i++) {
		int cx = MARGIN + slot_w * (int)i + slot_w / 2 + rnd(-slot_w / 8, slot_w / 8);
		int cy = IMG_H / 2 + rnd(-IMG_H / 10, IMG_H / 10);

		if (draw_glyph(im, text[i], cx, cy, slot_w) < 0)
			goto out;
	}
	draw_noise(im, rnd(2, 3), rnd(1, 2), rnd(120, 180));
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
	return r;
}
