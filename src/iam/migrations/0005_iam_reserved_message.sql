-- iam 0005 (src/iam/reserved.c): the customer's anti-phishing reserved
-- message (预留信息, WEB-PHISH-01), shown on login and payment pages;
-- '' when not set.
ALTER TABLE iam_user ADD COLUMN reserved_message TEXT NOT NULL DEFAULT '';
