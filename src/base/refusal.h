/*
 * base/refusal: the stable refusal codes a service hands its caller, each
 * declared once here (docs/errors.md, "Codes").
 *
 * A service refuses with one of these constants, never with the string
 * itself; http/errors.c maps each to its HTTP status and its English and
 * Chinese message, and tests/api/test_refusal_codes.py checks, at test
 * time, that every constant has its row in that table, that every row's
 * code is declared here (or by the JSON decoder or the HTTP layer), and
 * that no source file outside this header spells a code as a bare string.
 *
 * To add a code: one line here, one row in http/errors.c, one row in
 * docs/errors.md. Owns nothing; depends on nothing.
 */
#ifndef ANFU_BASE_REFUSAL_H
#define ANFU_BASE_REFUSAL_H

#define ANFU_R_INVALID_REQUEST "invalid_request"
#define ANFU_R_UNAUTHORIZED "unauthorized"
#define ANFU_R_EXPIRED "expired"
#define ANFU_R_FORBIDDEN "forbidden"
#define ANFU_R_NOT_FOUND "not_found"
#define ANFU_R_CONFLICT "conflict"
#define ANFU_R_ALREADY_EXISTS "already_exists"
#define ANFU_R_PAYLOAD_TOO_LARGE "payload_too_large"
#define ANFU_R_LOCKED "locked"
#define ANFU_R_TOO_MANY_REQUESTS "too_many_requests"
#define ANFU_R_INTERNAL_ERROR "internal_error"
#define ANFU_R_UNAVAILABLE "unavailable"
#define ANFU_R_OVERLOADED "overloaded"
#define ANFU_R_AUDIT_UNAVAILABLE "audit_unavailable"
#define ANFU_R_STORAGE_FULL "storage_full"
#define ANFU_R_NOT_READY "not_ready"
#define ANFU_R_INVALID_CREDENTIALS "invalid_credentials"
#define ANFU_R_SESSION_EXPIRED "session_expired"
#define ANFU_R_MFA_REQUIRED "mfa_required"
#define ANFU_R_STEP_UP_REQUIRED "step_up_required"
#define ANFU_R_PASSWORD_CHANGE_REQUIRED "password_change_required"
#define ANFU_R_TOTP_ENROLMENT_REQUIRED "totp_enrolment_required"
#define ANFU_R_CSRF_FAILED "csrf_failed"
#define ANFU_R_CAPTCHA_REQUIRED "captcha_required"
#define ANFU_R_CAPTCHA_INVALID "captcha_invalid"
#define ANFU_R_CODE_INVALID "code_invalid"
#define ANFU_R_CODE_EXPIRED "code_expired"
#define ANFU_R_CODE_TOO_SOON "code_too_soon"
#define ANFU_R_METHOD_UNAVAILABLE "method_unavailable"
#define ANFU_R_NO_DELIVERY_CHANNEL "no_delivery_channel"
#define ANFU_R_TOO_MANY_FAILURES "too_many_failures"
#define ANFU_R_PAYMENT_PASSWORD_INVALID "payment_password_invalid"
#define ANFU_R_PAYMENT_LOCKED "payment_locked"
#define ANFU_R_PAYMENT_PASSWORD_UNSET "payment_password_unset"
#define ANFU_R_RESET_INVALID "reset_invalid"
#define ANFU_PW_EMPTY "password_empty"
#define ANFU_PW_TOO_SHORT "password_too_short"
#define ANFU_PW_TOO_LONG "password_too_long"
#define ANFU_PW_INVALID_CHARS "password_invalid_characters"
#define ANFU_PW_CLASSES "password_too_few_classes"
#define ANFU_PW_DIGITS_ONLY "password_digits_only"
#define ANFU_PW_DICTIONARY "password_dictionary_word"
#define ANFU_PW_SEQUENCE "password_sequence"
#define ANFU_PW_KEYBOARD "password_keyboard_run"
#define ANFU_PW_REPEATED "password_repeated_characters"
#define ANFU_PW_PERSONAL "password_personal_data"
#define ANFU_PW_DEFAULT "password_default"
#define ANFU_PW_REUSED "password_reused"
#define ANFU_PIN_FORMAT "pin_format"
#define ANFU_PIN_REPEATED "pin_repeated"
#define ANFU_PIN_SEQUENCE "pin_sequence"
#define ANFU_PIN_PATTERN "pin_pattern"
#define ANFU_PIN_BIRTHDAY "pin_birthday"
#define ANFU_R_ROLE_CONFLICT "role_conflict"
#define ANFU_R_APPROVAL_SELF "approval_self"
#define ANFU_R_APPROVAL_NOT_PENDING "approval_not_pending"
#define ANFU_R_CONFIRMATION_MISMATCH "confirmation_mismatch"
#define ANFU_R_SESSION_LIMIT "session_limit"
#define ANFU_R_RESERVED_NAME "reserved_name"

/* Ledger (src/ledger/): refusals of a transfer. */
#define ANFU_R_LEDGER_ACCOUNT_NOT_FOUND "account_not_found"
#define ANFU_R_LEDGER_ACCOUNT_FROZEN "account_frozen"
#define ANFU_R_LEDGER_ACCOUNT_CLOSED "account_closed"
#define ANFU_R_LEDGER_ASSET_MISMATCH "asset_mismatch"
#define ANFU_R_LEDGER_SAME_ACCOUNT "same_account"
#define ANFU_R_LEDGER_AMOUNT_INVALID "amount_invalid"
#define ANFU_R_LEDGER_INSUFFICIENT_FUNDS "insufficient_funds"
#define ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED "credit_limit_exceeded"
#define ANFU_R_LEDGER_OVERFLOW "overflow"
#define ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT "idempotency_conflict"
#define ANFU_R_LEDGER_PENDING_NOT_FOUND "pending_not_found"
#define ANFU_R_LEDGER_PENDING_NOT_PENDING "pending_not_pending"
#define ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED "pending_amount_exceeded"
#define ANFU_R_LEDGER_PENDING_MISMATCH "pending_mismatch"
#define ANFU_R_LEDGER_LINKED_EVENT_FAILED "linked_event_failed"
/* Ledger: refusals of an account state change (freeze, unfreeze, close). */
#define ANFU_R_LEDGER_ACCOUNT_STATE_INVALID "account_state_invalid"
#define ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY "account_not_empty"

/* Points (src/points/, docs/points.md). */
#define ANFU_R_POINTS_INSUFFICIENT "points_insufficient"
#define ANFU_R_POINTS_ITEM_NOT_FOUND "points_item_not_found"
#define ANFU_R_POINTS_ITEM_INACTIVE "points_item_inactive"
#define ANFU_R_POINTS_OUT_OF_STOCK "points_out_of_stock"
#define ANFU_R_POINTS_AMOUNT_INVALID "points_amount_invalid"
#define ANFU_R_POINTS_REDEMPTION_NOT_FOUND "points_redemption_not_found"
#define ANFU_R_POINTS_NOT_CANCELLABLE "points_not_cancellable"
#define ANFU_R_POINTS_VALUE_SPENT "points_value_spent"
#define ANFU_R_POINTS_CAMPAIGN_NOT_FOUND "points_campaign_not_found"
#define ANFU_R_POINTS_WINDOW_INVALID "points_window_invalid"
#define ANFU_R_POINTS_GRANT_TOO_LARGE "points_grant_too_large"

/* Wallet (src/wallet/): refusals of a transfer between customers. */
#define ANFU_R_WALLET_PAYEE_NOT_FOUND "payee_not_found"
#define ANFU_R_WALLET_TRANSFER_TO_SELF "transfer_to_self"
#define ANFU_R_WALLET_LIMIT_SINGLE "limit_single_exceeded"
#define ANFU_R_WALLET_LIMIT_DAILY "limit_daily_exceeded"
#define ANFU_R_WALLET_CONFIRMATION_NOT_FOUND "confirmation_not_found"
#define ANFU_R_WALLET_CONFIRMATION_EXPIRED "confirmation_expired"
#define ANFU_R_WALLET_CONFIRMATION_USED "confirmation_used"

/* Payment PIN (src/iam/pinmac.c; issue 10, engineer pin): the stored PIN
 * record names a key src/keys does not hold, or does not parse. */
#define ANFU_R_PAYMENT_PASSWORD_UNVERIFIABLE "payment_password_unverifiable"

/* Bank channel (src/bank/): cards, top-ups, callbacks. */
#define ANFU_R_BANK_IDENTITY_MISMATCH "identity_mismatch"
#define ANFU_R_BANK_CARD_DECLINED "card_declined"
#define ANFU_R_BANK_CARD_ALREADY_BOUND "card_already_bound"
#define ANFU_R_BANK_CARD_BOUND_ELSEWHERE "card_bound_elsewhere"
#define ANFU_R_BANK_CARD_NOT_BOUND "card_not_bound"
#define ANFU_R_BANK_UNAVAILABLE "bank_unavailable"
#define ANFU_R_BANK_TOPUP_LIMIT_TX "topup_limit_per_transaction"
#define ANFU_R_BANK_TOPUP_LIMIT_DAILY "topup_limit_daily"
#define ANFU_R_BANK_SIGNATURE_INVALID "signature_invalid"
#define ANFU_R_BANK_REPLAYED "replayed"
#define ANFU_R_BANK_AMOUNT_MISMATCH "bank_amount_mismatch"

/* Withdrawals (src/bank/withdraw.c; issue 10, engineer withdraw). */
#define ANFU_R_BANK_WITHDRAW_BELOW_MIN "withdraw_below_min"
#define ANFU_R_BANK_WITHDRAW_ABOVE_MAX "withdraw_above_max"
#define ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_COUNT "withdraw_limit_daily_count"
#define ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_AMOUNT "withdraw_limit_daily_amount"
#define ANFU_R_BANK_WITHDRAW_NOT_IN_REVIEW "withdraw_not_in_review"
#define ANFU_R_BANK_WITHDRAW_CHECKER_IS_MAKER "withdraw_checker_is_maker"

/* Web pages and the shuffled keypad (src/web/; issue 11, engineer web). */
#define ANFU_R_WEB_KEYPAD_NOT_FOUND "keypad_not_found"
#define ANFU_R_WEB_KEYPAD_USED "keypad_used"
#define ANFU_R_WEB_KEYPAD_EXPIRED "keypad_expired"
#define ANFU_R_WEB_KEYPAD_POSITIONS "keypad_positions_invalid"
/* The anti-phishing reserved message (src/iam/reserved.c; issue 11, web). */
#define ANFU_R_RESERVED_MESSAGE_INVALID "reserved_message_invalid"

/* Disputes (src/dispute/; issue 11, engineer dispute). */
#define ANFU_R_DISPUTE_NOT_FOUND "dispute_not_found"
#define ANFU_R_DISPUTE_KIND_UNKNOWN "dispute_kind_unknown"
#define ANFU_R_DISPUTE_SUBJECT_NOT_FOUND "dispute_subject_not_found"
#define ANFU_R_DISPUTE_ALREADY_OPEN "dispute_already_open"
#define ANFU_R_DISPUTE_STATE_INVALID "dispute_state_invalid"
#define ANFU_R_DISPUTE_REFUND_UNSUPPORTED "dispute_refund_unsupported"
#define ANFU_R_DISPUTE_REFUND_TOO_LARGE "dispute_refund_too_large"
#define ANFU_R_DISPUTE_RESOLUTION_DIFFERS "dispute_resolution_differs"
#define ANFU_R_DISPUTE_TOO_MANY_EVENTS "dispute_too_many_events"
#define ANFU_R_DISPUTE_REOPEN_LIMIT "dispute_reopen_limit"
#define ANFU_R_DISPUTE_REFUND_PENDING "dispute_refund_pending"

/* Pay (src/pay/; issue 11, core): merchants, orders, general payment. */
#define ANFU_R_PAY_MERCHANT_NOT_FOUND "merchant_not_found"
#define ANFU_R_PAY_MERCHANT_EXISTS "merchant_exists"
#define ANFU_R_PAY_MERCHANT_DISABLED "merchant_disabled"
#define ANFU_R_PAY_ORDER_NOT_FOUND "order_not_found"
#define ANFU_R_PAY_OUT_TRADE_NO_CONFLICT "out_trade_no_conflict"
#define ANFU_R_PAY_LINES_MISMATCH "order_lines_mismatch"
#define ANFU_R_PAY_ORDER_EXPIRED "order_expired"
#define ANFU_R_PAY_ORDER_CLOSED "order_closed"
#define ANFU_R_PAY_ORDER_PAID "order_paid"
#define ANFU_R_PAY_ORDER_STATE "order_state_invalid"
#define ANFU_R_PAY_KIND_UNSUPPORTED "payment_kind_unsupported"
/* Pay-on-behalf (src/pay/behalf.c; issue 11, escrow). */
#define ANFU_R_PAY_SHARE_NOT_FOUND "share_not_found"
#define ANFU_R_PAY_SHARE_EXPIRED "share_expired"

/* pay: refunds (pay/refund.c) */
#define ANFU_R_PAY_REFUND_NOT_FOUND "refund_not_found"
#define ANFU_R_PAY_REFUND_NO_CONFLICT "refund_no_conflict"
#define ANFU_R_PAY_REFUND_EXCEEDED "refund_amount_exceeded"
#define ANFU_R_PAY_REFUND_STATE "refund_state_invalid"
#define ANFU_R_PAY_REFUND_CHECKER_IS_MAKER "refund_checker_is_maker"
#define ANFU_R_PAY_REFUND_CARD_INVALID "refund_card_invalid"
#define ANFU_R_PAY_REFUND_ATTEMPTS "refund_attempts_exhausted"

/* Pay, payment codes (issue 11, wave 2). */
#define ANFU_R_PAY_PAYCODE_INVALID "paycode_invalid"
#define ANFU_R_PAY_PAYCODE_EXPIRED "paycode_expired"
#define ANFU_R_PAY_PAYCODE_USED "paycode_used"

/* Pay, agreements (issue 11, wave 2). */
#define ANFU_R_PAY_AGREEMENT_NOT_FOUND "agreement_not_found"
#define ANFU_R_PAY_AGREEMENT_REVOKED "agreement_revoked"
#define ANFU_R_PAY_AGREEMENT_EXPIRED "agreement_expired"
#define ANFU_R_PAY_AGREEMENT_DEBIT_LIMIT "agreement_debit_limit"
#define ANFU_R_PAY_AGREEMENT_PERIOD_LIMIT "agreement_period_limit"

#endif
