-- iam 0006 (src/iam/captcha.c, docs/iam.md "Captcha"): the captcha's PNG,
-- base64, kept while the captcha is live so that a page can show it from a
-- same-origin URL (GET /api/v1/captcha/{id}/image) under the CSP's
-- img-src 'self'. Emptied (NULL) by the first attempt, which uses the
-- captcha up; the row itself goes with the expiry job. Captchas made
-- before the upgrade have none: their image route answers 404.
ALTER TABLE iam_captcha ADD COLUMN image TEXT;
