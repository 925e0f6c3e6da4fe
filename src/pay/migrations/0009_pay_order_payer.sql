-- pay 0009: a customer's orders (GET /api/v1/me/orders; docs/payments.md
-- "Pay-on-behalf"; FUNC-PAY-17) are read newest first by (created_ms, id)
-- among the orders they paid; this index serves that branch of the query
-- (and the payment code's pending orders, also by payer), so it walks the
-- payer's entries backwards from the cursor and stops at the page. The
-- orders a customer shared are found by pay_share_requester (0003).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15).
CREATE INDEX pay_order_payer ON pay_order (payer_id, created_ms, id);
