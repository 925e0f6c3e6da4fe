/*
 * http/errors: the one table from ANFU_E* codes to HTTP statuses, stable
 * error codes and their English and Simplified Chinese messages, and the
 * uniform error body (WEB-ERR-01, WEB-ERR-02).
 *
 * Owns the table below; docs/errors.md documents it row by row and the
 * http_errors test keeps the two in step. Trusts its callers for the codes
 * (static strings from our own code) but not for the field names, which
 * may come from a client's JSON keys: they are JSON-escaped and cut to
 * whole UTF-8 characters. Bodies never carry errno text, SQL or paths.
 *
 * To add a code: add one row. The first row of a status is that status's
 * generic row: its message is used when a handler sets a code the table
 * does not know.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/internal.h"

#define MAX_ERRS 4

struct err_row {
	const char *code;
	int status;
	int errs[MAX_ERRS]; /* ANFU_E* codes whose default this is; 0 ends */
	const char *en;
	const char *zh;
};

static const struct err_row table[] = {
	{ ANFU_R_INVALID_REQUEST, 400, { ANFU_EINVAL }, "The request is invalid", "请求无效" },
	{ ANFU_JERR_OUT_OF_RANGE, 400, { ANFU_ERANGE }, "Value out of range", "取值超出范围" },
	{ ANFU_HTTP_CODE_FRAMING,
	  400,
	  { 0 },
	  "The request is not well-formed HTTP/1.1; the connection is closed",
	  "请求不符合 HTTP/1.1 格式，连接已关闭" },
	{ ANFU_HTTP_CODE_TARGET,
	  400,
	  { 0 },
	  "The request path is malformed or not allowed; the connection is closed",
	  "请求路径格式错误或不被允许，连接已关闭" },
	{ ANFU_JERR_INVALID_JSON,
	  400,
	  { 0 },
	  "The body is not valid JSON",
	  "请求体不是有效的 JSON" },
	{ ANFU_JERR_INVALID_UTF8,
	  400,
	  { 0 },
	  "The body is not valid UTF-8",
	  "请求体不是有效的 UTF-8 编码" },
	{ ANFU_JERR_TOO_DEEP,
	  400,
	  { 0 },
	  "The JSON document is nested too deeply",
	  "JSON 嵌套层级过深" },
	{ ANFU_JERR_UNKNOWN_FIELD, 400, { 0 }, "Unknown field", "未知字段" },
	{ ANFU_JERR_MISSING_FIELD, 400, { 0 }, "Missing required field", "缺少必填字段" },
	{ ANFU_JERR_INVALID_FIELD, 400, { 0 }, "Invalid field value", "字段值无效" },
	{ ANFU_JERR_INVALID_TEXT,
	  400,
	  { 0 },
	  "The text holds a control, format or line-separator character",
	  "文本中含有控制字符、格式字符或换行符" },
	{ ANFU_R_UNAUTHORIZED, 401, { ANFU_EAUTH }, "Authentication required", "需要身份认证" },
	{ ANFU_R_EXPIRED,
	  401,
	  { ANFU_EEXPIRED },
	  "The credential or code has expired",
	  "凭证或验证码已过期" },
	{ ANFU_R_FORBIDDEN, 403, { ANFU_EPERM }, "Access denied", "无权访问" },
	{ ANFU_R_NOT_FOUND, 404, { ANFU_ENOTFOUND }, "The resource does not exist", "资源不存在" },
	{ ANFU_HTTP_CODE_METHOD, 405, { 0 }, "Method not allowed", "不支持该请求方法" },
	{ ANFU_R_CONFLICT,
	  409,
	  { ANFU_ECONFLICT },
	  "The request conflicts with the current state",
	  "请求与当前状态冲突" },
	{ ANFU_R_ALREADY_EXISTS,
	  409,
	  { ANFU_EEXIST },
	  "The resource already exists",
	  "资源已存在" },
	{ ANFU_R_PAYLOAD_TOO_LARGE, 413, { ANFU_ELIMIT }, "The request is too large", "请求过大" },
	{ ANFU_HTTP_CODE_MEDIA,
	  415,
	  { 0 },
	  "Content-Type must be application/json",
	  "Content-Type 必须为 application/json" },
	{ ANFU_R_LOCKED, 423, { ANFU_ELOCKED }, "Locked; try again later", "已锁定，请稍后再试" },
	{ ANFU_R_TOO_MANY_REQUESTS,
	  429,
	  { ANFU_ERATE },
	  "Too many requests; try again later",
	  "请求过于频繁，请稍后再试" },
	{ ANFU_HTTP_CODE_HEADERS, 431, { 0 }, "The request headers are too large", "请求头过大" },
	{ ANFU_R_INTERNAL_ERROR,
	  500,
	  { ANFU_ECRYPTO, ANFU_ECORRUPT, ANFU_EINTERNAL },
	  "Internal error",
	  "内部错误" },
	{ ANFU_R_UNAVAILABLE,
	  503,
	  { ANFU_EIO, ANFU_EBUSY, ANFU_ESCHEMA, ANFU_ETIMEDOUT },
	  "The service is temporarily unavailable",
	  "服务暂时不可用" },
	{ ANFU_R_OVERLOADED,
	  503,
	  { ANFU_EOVERLOAD },
	  "The server is busy; try again later",
	  "服务器繁忙，请稍后再试" },
	{ ANFU_R_AUDIT_UNAVAILABLE,
	  503,
	  { ANFU_EAUDIT },
	  "Audit logging is unavailable; nothing was changed",
	  "审计记录不可用，未做任何更改" },
	{ ANFU_R_STORAGE_FULL, 503, { ANFU_EFULL }, "Storage is full", "存储空间已满" },
	/* Ledger (src/ledger/). */
	{ ANFU_R_LEDGER_ACCOUNT_NOT_FOUND,
	  404,
	  { 0 },
	  "The ledger account does not exist",
	  "账户不存在" },
	{ ANFU_R_LEDGER_ACCOUNT_FROZEN, 409, { 0 }, "The account is frozen", "账户已冻结" },
	{ ANFU_R_LEDGER_ACCOUNT_CLOSED, 409, { 0 }, "The account is closed", "账户已销户" },
	{ ANFU_R_LEDGER_ASSET_MISMATCH,
	  400,
	  { 0 },
	  "The accounts are in different assets",
	  "账户资产类型不一致" },
	{ ANFU_R_LEDGER_SAME_ACCOUNT,
	  400,
	  { 0 },
	  "The debit and credit accounts are the same",
	  "借方与贷方账户相同" },
	{ ANFU_R_LEDGER_AMOUNT_INVALID, 400, { 0 }, "The amount is invalid", "金额无效" },
	{ ANFU_R_LEDGER_INSUFFICIENT_FUNDS, 409, { 0 }, "Insufficient balance", "余额不足" },
	{ ANFU_R_LEDGER_CREDIT_LIMIT_EXCEEDED,
	  409,
	  { 0 },
	  "The credit account's limit would be exceeded",
	  "贷方账户超出限额" },
	{ ANFU_R_LEDGER_OVERFLOW, 409, { 0 }, "A balance would overflow", "账户余额溢出" },
	{ ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT,
	  409,
	  { 0 },
	  "The idempotency key was already used with different content",
	  "幂等键已用于不同内容的请求" },
	{ ANFU_R_LEDGER_PENDING_NOT_FOUND,
	  404,
	  { 0 },
	  "The pending transfer does not exist",
	  "待处理的预授权转账不存在" },
	{ ANFU_R_LEDGER_PENDING_NOT_PENDING,
	  409,
	  { 0 },
	  "The pending transfer is no longer pending",
	  "该预授权转账已处理或已过期" },
	{ ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED,
	  409,
	  { 0 },
	  "The amount exceeds the pending transfer",
	  "金额超出预授权金额" },
	{ ANFU_R_LEDGER_PENDING_MISMATCH,
	  409,
	  { 0 },
	  "The request does not match the pending transfer",
	  "请求与预授权转账不一致" },
	{ ANFU_R_LEDGER_LINKED_EVENT_FAILED,
	  409,
	  { 0 },
	  "Another transfer of the linked chain failed",
	  "关联转账中的其他转账失败" },
	{ ANFU_R_LEDGER_ACCOUNT_STATE_INVALID,
	  409,
	  { 0 },
	  "The account cannot change to that state from its current one",
	  "账户无法从当前状态变更为该状态" },
	{ ANFU_R_LEDGER_ACCOUNT_NOT_EMPTY,
	  409,
	  { 0 },
	  "The account still has a balance or pending holds",
	  "账户仍有余额或未完成的预授权" },
	/* Points (src/points/). */
	{ ANFU_R_POINTS_INSUFFICIENT, 409, { 0 }, "Not enough points", "积分不足" },
	{ ANFU_R_POINTS_ITEM_NOT_FOUND,
	  404,
	  { 0 },
	  "The catalogue item does not exist",
	  "兑换商品不存在" },
	{ ANFU_R_POINTS_ITEM_INACTIVE,
	  409,
	  { 0 },
	  "The catalogue item is not available",
	  "该兑换商品已下架" },
	{ ANFU_R_POINTS_OUT_OF_STOCK,
	  409,
	  { 0 },
	  "The catalogue item is out of stock",
	  "兑换商品库存不足" },
	{ ANFU_R_POINTS_AMOUNT_INVALID,
	  400,
	  { 0 },
	  "The points are not a positive multiple of the redemption unit",
	  "兑换积分须为兑换单位的正整数倍" },
	{ ANFU_R_POINTS_REDEMPTION_NOT_FOUND,
	  404,
	  { 0 },
	  "The redemption does not exist",
	  "兑换记录不存在" },
	{ ANFU_R_POINTS_NOT_CANCELLABLE,
	  409,
	  { 0 },
	  "The redemption cannot be cancelled (already cancelled)",
	  "该兑换无法取消（已取消）" },
	{ ANFU_R_POINTS_VALUE_SPENT,
	  409,
	  { 0 },
	  "The wallet no longer holds the redeemed value",
	  "钱包余额不足以退回兑换金额" },
	{ ANFU_R_POINTS_CAMPAIGN_NOT_FOUND,
	  404,
	  { 0 },
	  "The campaign does not exist",
	  "积分活动不存在" },
	{ ANFU_R_POINTS_WINDOW_INVALID,
	  400,
	  { 0 },
	  "The campaign must end after it starts",
	  "活动结束时间须晚于开始时间" },
	{ ANFU_R_POINTS_GRANT_TOO_LARGE,
	  400,
	  { 0 },
	  "The grant exceeds the largest grant allowed",
	  "发放积分超过单次上限" },

	/* Wallet (src/wallet/). */
	{ ANFU_R_WALLET_PAYEE_NOT_FOUND,
	  404,
	  { 0 },
	  "No customer with that phone number or login name can receive transfers",
	  "未找到可收款的用户（手机号或登录名）" },
	{ ANFU_R_WALLET_TRANSFER_TO_SELF,
	  400,
	  { 0 },
	  "A transfer to yourself is not possible",
	  "不能向自己转账" },
	{ ANFU_R_WALLET_LIMIT_SINGLE,
	  409,
	  { 0 },
	  "The amount is above the single-transaction limit",
	  "金额超过单笔限额" },
	{ ANFU_R_WALLET_LIMIT_DAILY,
	  409,
	  { 0 },
	  "The amount would exceed today's cumulative limit",
	  "金额将超过当日累计限额" },
	{ ANFU_R_WALLET_CONFIRMATION_NOT_FOUND,
	  404,
	  { 0 },
	  "The confirmation does not exist",
	  "确认单不存在" },
	{ ANFU_R_WALLET_CONFIRMATION_EXPIRED,
	  409,
	  { 0 },
	  "The confirmation has expired; preview the transfer again",
	  "确认单已过期，请重新发起转账" },
	{ ANFU_R_WALLET_CONFIRMATION_USED,
	  409,
	  { 0 },
	  "The confirmation was already used for another request",
	  "确认单已被其他请求使用" },
	/* Web pages and the shuffled keypad (src/web/). */
	{ ANFU_R_WEB_KEYPAD_NOT_FOUND, 404, { 0 }, "The keypad does not exist", "密码键盘不存在" },
	{ ANFU_R_WEB_KEYPAD_USED,
	  409,
	  { 0 },
	  "The keypad was already used; reload the page",
	  "该密码键盘已使用，请刷新页面" },
	{ ANFU_R_WEB_KEYPAD_EXPIRED,
	  409,
	  { 0 },
	  "The keypad has expired; reload the page",
	  "该密码键盘已过期，请刷新页面" },
	{ ANFU_R_WEB_KEYPAD_POSITIONS,
	  400,
	  { 0 },
	  "The keys pressed are not valid",
	  "按键输入无效" },
	{ ANFU_R_RESERVED_MESSAGE_INVALID,
	  400,
	  { 0 },
	  "The reserved message is too long or contains characters not allowed",
	  "预留信息过长或包含不允许的字符" },
	/* Identity and access (src/iam/). */
	{ ANFU_R_NOT_READY, 503, { 0 }, "The service is not ready", "服务尚未就绪" },
	{ ANFU_R_INVALID_CREDENTIALS,
	  401,
	  { 0 },
	  "The login name or password is incorrect",
	  "登录名或密码错误" },
	{ ANFU_R_SESSION_EXPIRED,
	  401,
	  { 0 },
	  "The session has ended; please log in again",
	  "会话已结束，请重新登录" },
	{ ANFU_R_MFA_REQUIRED,
	  403,
	  { 0 },
	  "A second factor is required",
	  "需要完成第二重身份验证" },
	{ ANFU_R_STEP_UP_REQUIRED,
	  403,
	  { 0 },
	  "Please confirm with a second factor first",
	  "请先完成二次身份验证" },
	{ ANFU_R_PASSWORD_CHANGE_REQUIRED,
	  403,
	  { 0 },
	  "You must change your password first",
	  "请先修改密码" },
	{ ANFU_R_TOTP_ENROLMENT_REQUIRED,
	  403,
	  { 0 },
	  "Please set up an authenticator app first",
	  "请先绑定身份验证器" },
	{ ANFU_R_CSRF_FAILED,
	  403,
	  { 0 },
	  "The request lacks a valid CSRF token",
	  "请求缺少有效的 CSRF 令牌" },
	{ ANFU_R_CAPTCHA_REQUIRED, 400, { 0 }, "A captcha is required", "需要填写图形验证码" },
	{ ANFU_R_CAPTCHA_INVALID,
	  400,
	  { 0 },
	  "The captcha is wrong or has expired",
	  "图形验证码错误或已过期" },
	{ ANFU_R_CODE_INVALID, 400, { 0 }, "The verification code is incorrect", "验证码错误" },
	{ ANFU_R_CODE_EXPIRED, 400, { 0 }, "The verification code has expired", "验证码已过期" },
	{ ANFU_R_CODE_TOO_SOON,
	  429,
	  { 0 },
	  "Please wait before requesting another code",
	  "请稍后再获取验证码" },
	{ ANFU_R_METHOD_UNAVAILABLE,
	  400,
	  { 0 },
	  "This verification method is not available for the account",
	  "该账户无法使用此验证方式" },
	{ ANFU_R_NO_DELIVERY_CHANNEL,
	  409,
	  { 0 },
	  "The account has no bound phone or email to send the password to",
	  "该账户未绑定手机号或邮箱，无法发送密码" },
	{ ANFU_R_TOO_MANY_FAILURES,
	  429,
	  { 0 },
	  "Too many failed attempts; please try again later",
	  "失败次数过多，请稍后再试" },
	{ ANFU_R_PAYMENT_PASSWORD_INVALID,
	  403,
	  { 0 },
	  "The payment password is incorrect",
	  "支付密码错误" },
	{ ANFU_R_PAYMENT_LOCKED,
	  423,
	  { 0 },
	  "Payments are locked after too many wrong payment passwords",
	  "支付密码错误次数过多，支付功能已锁定" },
	{ ANFU_R_PAYMENT_PASSWORD_UNSET,
	  409,
	  { 0 },
	  "No payment password has been set",
	  "尚未设置支付密码" },
	{ ANFU_R_RESET_INVALID,
	  400,
	  { 0 },
	  "The reset request is invalid or has expired",
	  "重置请求无效或已过期" },
	{ ANFU_PW_EMPTY, 400, { 0 }, "The password must not be empty", "密码不能为空" },
	{ ANFU_PW_TOO_SHORT, 400, { 0 }, "The password is too short", "密码长度不足" },
	{ ANFU_PW_TOO_LONG, 400, { 0 }, "The password is too long", "密码过长" },
	{ ANFU_PW_INVALID_CHARS,
	  400,
	  { 0 },
	  "The password contains characters that are not allowed",
	  "密码包含不允许的字符" },
	{ ANFU_PW_CLASSES,
	  400,
	  { 0 },
	  "The password needs upper- and lower-case letters, digits and special characters",
	  "密码须包含大写字母、小写字母、数字和特殊字符" },
	{ ANFU_PW_DIGITS_ONLY,
	  400,
	  { 0 },
	  "The password must not be digits only",
	  "密码不能全为数字" },
	{ ANFU_PW_DICTIONARY,
	  400,
	  { 0 },
	  "The password contains a dictionary word or a common password",
	  "密码包含字典单词或常见密码" },
	{ ANFU_PW_SEQUENCE,
	  400,
	  { 0 },
	  "The password contains a sequence such as abc or 123",
	  "密码包含连续字符（如 abc、123）" },
	{ ANFU_PW_KEYBOARD,
	  400,
	  { 0 },
	  "The password contains adjacent keyboard keys such as qwe",
	  "密码包含键盘相邻字符（如 qwe）" },
	{ ANFU_PW_REPEATED,
	  400,
	  { 0 },
	  "The password repeats a character three or more times",
	  "密码包含三个以上连续相同字符" },
	{ ANFU_PW_PERSONAL,
	  400,
	  { 0 },
	  "The password contains your personal information",
	  "密码包含个人信息" },
	{ ANFU_PW_DEFAULT, 400, { 0 }, "The password is a default password", "不能使用默认密码" },
	{ ANFU_PW_REUSED,
	  400,
	  { 0 },
	  "The password was used recently",
	  "不能使用最近使用过的密码" },
	{ ANFU_PIN_FORMAT,
	  400,
	  { 0 },
	  "The payment password must be 6 digits",
	  "支付密码必须为 6 位数字" },
	{ ANFU_PIN_REPEATED,
	  400,
	  { 0 },
	  "The payment password must not repeat one digit",
	  "支付密码不能为相同数字" },
	{ ANFU_PIN_SEQUENCE,
	  400,
	  { 0 },
	  "The payment password must not be a sequence",
	  "支付密码不能为连续数字" },
	{ ANFU_PIN_PATTERN,
	  400,
	  { 0 },
	  "The payment password must not be a repeated pattern",
	  "支付密码不能为重复组合" },
	{ ANFU_PIN_BIRTHDAY,
	  400,
	  { 0 },
	  "The payment password must not be your birthday",
	  "支付密码不能为生日" },
	{ ANFU_R_ROLE_CONFLICT,
	  409,
	  { 0 },
	  "The roles conflict (separation of duties)",
	  "角色冲突（职责分离）" },
	{ ANFU_R_APPROVAL_SELF,
	  403,
	  { 0 },
	  "You cannot decide your own request",
	  "不能审批自己提交的申请" },
	{ ANFU_R_APPROVAL_NOT_PENDING,
	  409,
	  { 0 },
	  "The request has already been decided",
	  "该申请已处理" },
	{ ANFU_R_CONFIRMATION_MISMATCH,
	  409,
	  { 0 },
	  "The value you confirmed differs from the request",
	  "您确认的信息与申请不一致" },
	{ ANFU_R_SESSION_LIMIT, 409, { 0 }, "Too many active sessions", "活动会话数已达上限" },
	{ ANFU_R_RESERVED_NAME, 400, { 0 }, "This name is reserved", "该名称为保留名称" },
	/* Payment PIN (src/iam/pinmac.c). */
	{ ANFU_R_PAYMENT_PASSWORD_UNVERIFIABLE,
	  500,
	  { 0 },
	  "The payment password cannot be checked now; contact customer service",
	  "暂时无法验证支付密码，请联系客服" },

	/* Bank channel (src/bank/): cards, top-ups, callbacks. */
	{ ANFU_R_BANK_IDENTITY_MISMATCH,
	  409,
	  { 0 },
	  "The card holder does not match your verified identity",
	  "持卡人与您的实名信息不一致" },
	{ ANFU_R_BANK_CARD_DECLINED, 409, { 0 }, "The bank declined the card", "银行拒绝了该卡" },
	{ ANFU_R_BANK_CARD_ALREADY_BOUND,
	  409,
	  { 0 },
	  "This card is already bound to your account",
	  "该卡已绑定到您的账户" },
	{ ANFU_R_BANK_CARD_BOUND_ELSEWHERE,
	  409,
	  { 0 },
	  "This card is bound to another account",
	  "该卡已被其他账户绑定" },
	{ ANFU_R_BANK_CARD_NOT_BOUND, 409, { 0 }, "The card is not bound", "该卡未绑定" },
	{ ANFU_R_BANK_UNAVAILABLE,
	  503,
	  { 0 },
	  "The bank is not available; try again later",
	  "银行暂不可用，请稍后再试" },
	{ ANFU_R_BANK_TOPUP_LIMIT_TX,
	  409,
	  { 0 },
	  "The amount is above the per-transaction top-up limit",
	  "金额超过单笔充值限额" },
	{ ANFU_R_BANK_TOPUP_LIMIT_DAILY,
	  409,
	  { 0 },
	  "The amount is above today's top-up limit",
	  "金额超过当日充值限额" },
	{ ANFU_R_BANK_SIGNATURE_INVALID,
	  401,
	  { 0 },
	  "The message signature is invalid",
	  "报文签名无效" },
	{ ANFU_R_BANK_REPLAYED,
	  409,
	  { 0 },
	  "The message was already received or is too old",
	  "报文重复或已过期" },
	{ ANFU_R_BANK_AMOUNT_MISMATCH,
	  409,
	  { 0 },
	  "The bank reported another amount",
	  "银行报告的金额不一致" },
	/* Withdrawals (src/bank/withdraw.c). */
	{ ANFU_R_BANK_WITHDRAW_BELOW_MIN,
	  409,
	  { 0 },
	  "The amount is below the minimum withdrawal",
	  "金额低于单笔最低提现金额" },
	{ ANFU_R_BANK_WITHDRAW_ABOVE_MAX,
	  409,
	  { 0 },
	  "The amount is above the maximum withdrawal",
	  "金额超过单笔最高提现金额" },
	{ ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_COUNT,
	  409,
	  { 0 },
	  "Today's number of withdrawals is used up",
	  "今日提现次数已用完" },
	{ ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_AMOUNT,
	  409,
	  { 0 },
	  "The amount is above today's withdrawal limit",
	  "金额超过当日提现限额" },
	{ ANFU_R_BANK_WITHDRAW_NOT_IN_REVIEW,
	  409,
	  { 0 },
	  "The withdrawal is not waiting for review",
	  "该提现不在待审核状态" },
	{ ANFU_R_BANK_WITHDRAW_CHECKER_IS_MAKER,
	  403,
	  { 0 },
	  "A second operator must approve this withdrawal",
	  "该笔提现须由另一名操作员复核" },
	/* Disputes (src/dispute/; docs/disputes.md). */
	{ ANFU_R_DISPUTE_NOT_FOUND, 404, { 0 }, "No such dispute", "纠纷不存在" },
	{ ANFU_R_DISPUTE_KIND_UNKNOWN,
	  400,
	  { 0 },
	  "Disputes about this kind of transaction are not taken",
	  "不支持对该类交易提起纠纷" },
	{ ANFU_R_DISPUTE_SUBJECT_NOT_FOUND,
	  404,
	  { 0 },
	  "No such transaction of yours",
	  "未找到您的该笔交易" },
	{ ANFU_R_DISPUTE_ALREADY_OPEN,
	  409,
	  { 0 },
	  "A dispute about this transaction is already open",
	  "该笔交易已有未结束的纠纷" },
	{ ANFU_R_DISPUTE_STATE_INVALID,
	  409,
	  { 0 },
	  "The dispute's state does not allow this",
	  "纠纷当前状态不允许此操作" },
	{ ANFU_R_DISPUTE_REFUND_UNSUPPORTED,
	  409,
	  { 0 },
	  "This kind of transaction cannot be refunded through a dispute",
	  "该类交易不支持通过纠纷退款" },
	{ ANFU_R_DISPUTE_REFUND_TOO_LARGE,
	  409,
	  { 0 },
	  "The refund is above the transaction's amount",
	  "退款金额超过交易金额" },
	{ ANFU_R_DISPUTE_RESOLUTION_DIFFERS,
	  409,
	  { 0 },
	  "The dispute was already resolved differently",
	  "该纠纷已按其他方案处理" },
	{ ANFU_R_DISPUTE_TOO_MANY_EVENTS,
	  409,
	  { 0 },
	  "The dispute has too many messages",
	  "该纠纷留言过多" },
	{ ANFU_R_DISPUTE_REOPEN_LIMIT,
	  409,
	  { 0 },
	  "The dispute was already reopened as often as allowed",
	  "该纠纷重新申诉次数已达上限" },
	{ ANFU_R_DISPUTE_REFUND_PENDING,
	  409,
	  { 0 },
	  "The refund of the resolution is still being made; try again later",
	  "处理结果的退款仍在进行中，请稍后再试" },

	{ ANFU_R_PAY_MERCHANT_NOT_FOUND,
	  404,
	  { 0 },
	  "The merchant has no payment profile",
	  "该商户尚未开通收款" },
	{ ANFU_R_PAY_MERCHANT_EXISTS,
	  409,
	  { 0 },
	  "The merchant is already registered",
	  "该商户已开通收款" },
	{ ANFU_R_PAY_MERCHANT_DISABLED,
	  409,
	  { 0 },
	  "The merchant cannot take payments now",
	  "该商户暂停收款" },
	{ ANFU_R_PAY_ORDER_NOT_FOUND, 404, { 0 }, "The order does not exist", "订单不存在" },
	{ ANFU_R_PAY_OUT_TRADE_NO_CONFLICT,
	  409,
	  { 0 },
	  "The merchant order number is already used for another order",
	  "商户订单号已用于其他订单" },
	{ ANFU_R_PAY_LINES_MISMATCH,
	  400,
	  { 0 },
	  "The bill lines do not add up to the amount",
	  "订单明细与金额不符" },
	{ ANFU_R_PAY_ORDER_EXPIRED, 409, { 0 }, "The order has expired", "订单已过期" },
	{ ANFU_R_PAY_ORDER_CLOSED, 409, { 0 }, "The order is closed", "订单已关闭" },
	{ ANFU_R_PAY_ORDER_PAID, 409, { 0 }, "The order has already been paid", "订单已支付" },
	{ ANFU_R_PAY_ORDER_STATE,
	  409,
	  { 0 },
	  "The order cannot do that in its current state",
	  "订单当前状态不允许该操作" },
	{ ANFU_R_PAY_KIND_UNSUPPORTED,
	  409,
	  { 0 },
	  "This order cannot be paid this way",
	  "该订单不支持此支付方式" },
	{ ANFU_R_PAY_SHARE_NOT_FOUND,
	  404,
	  { 0 },
	  "The pay-on-behalf link is not valid",
	  "代付链接无效" },
	{ ANFU_R_PAY_SHARE_EXPIRED,
	  409,
	  { 0 },
	  "The pay-on-behalf link has expired",
	  "代付链接已过期" },

	{ ANFU_R_PAY_REFUND_NOT_FOUND, 404, { 0 }, "The refund was not found", "未找到该退款" },
	{ ANFU_R_PAY_REFUND_NO_CONFLICT,
	  409,
	  { 0 },
	  "This refund number was already used for another refund",
	  "该退款单号已用于其他退款" },
	{ ANFU_R_PAY_REFUND_EXCEEDED,
	  409,
	  { 0 },
	  "The refund would exceed the amount paid",
	  "退款金额超过可退金额" },
	{ ANFU_R_PAY_REFUND_STATE,
	  409,
	  { 0 },
	  "The refund cannot do that in its current state",
	  "退款当前状态不允许该操作" },
	{ ANFU_R_PAY_REFUND_CHECKER_IS_MAKER,
	  409,
	  { 0 },
	  "Another operator must give the second approval",
	  "第二次审批须由另一名操作员完成" },
	{ ANFU_R_PAY_REFUND_CARD_INVALID,
	  409,
	  { 0 },
	  "The card is not a bound card of the payer",
	  "该卡不是付款人已绑定的银行卡" },
	{ ANFU_R_PAY_REFUND_ATTEMPTS,
	  409,
	  { 0 },
	  "The refund was sent to a card as many times as allowed",
	  "该退款退往银行卡的次数已达上限" },

	{ ANFU_R_PAY_PAYCODE_INVALID, 409, { 0 }, "The payment code is not valid", "付款码无效" },
	{ ANFU_R_PAY_PAYCODE_EXPIRED,
	  409,
	  { 0 },
	  "The payment code has expired; ask the customer to refresh it",
	  "付款码已过期，请让顾客刷新" },
	{ ANFU_R_PAY_PAYCODE_USED,
	  409,
	  { 0 },
	  "The payment code has already been used",
	  "付款码已使用" },
	{ ANFU_R_PAY_AGREEMENT_NOT_FOUND, 404, { 0 }, "No such agreement", "协议不存在" },
	{ ANFU_R_PAY_AGREEMENT_REVOKED,
	  409,
	  { 0 },
	  "The agreement has been revoked",
	  "协议已解除" },
	{ ANFU_R_PAY_AGREEMENT_EXPIRED, 409, { 0 }, "The agreement has expired", "协议已过期" },
	{ ANFU_R_PAY_AGREEMENT_DEBIT_LIMIT,
	  409,
	  { 0 },
	  "The amount is above the agreement's limit per debit",
	  "金额超过协议的单笔限额" },
	{ ANFU_R_PAY_AGREEMENT_PERIOD_LIMIT,
	  409,
	  { 0 },
	  "The amount is above what the agreement allows in this period",
	  "金额超过协议的周期限额" },
};

#define NROWS (sizeof(table) / sizeof(table[0]))
#define FALLBACK_CODE ANFU_R_INTERNAL_ERROR /* for codes the table lacks */

static const struct err_row *row_by_code(const char *code)
{
	for (size_t i = 0; code && i < NROWS; i++)
		if (strcmp(table[i].code, code) == 0)
			return &table[i];
	return NULL;
}

static const struct err_row *row_by_err(int err)
{
	for (size_t i = 0; i < NROWS; i++)
		for (int j = 0; j < MAX_ERRS && table[i].errs[j] != 0; j++)
			if (table[i].errs[j] == err)
				return &table[i];
	return row_by_code(FALLBACK_CODE);
}

static const struct err_row *row_by_status(int status)
{
	for (size_t i = 0; i < NROWS; i++)
		if (table[i].status == status)
			return &table[i];
	return NULL;
}

int anfu_http_status_for(int err, const char **ret_code)
{
	const struct err_row *row = row_by_err(err);

	if (ret_code)
		*ret_code = row->code;
	return row->status;
}

int anfu_http_error_resolve(int err, const char *code, const char **ret_code)
{
	const struct err_row *row = row_by_code(code);

	if (row) {
		*ret_code = row->code;
		return row->status;
	}
	row = row_by_err(err);
	*ret_code = code ? code : row->code;
	return row->status;
}

static const char *pick(const struct err_row *row, const char *lang)
{
	return lang && strcmp(lang, "zh") == 0 ? row->zh : row->en;
}

const char *anfu_http_error_message(const char *code, const char *lang)
{
	const struct err_row *row = row_by_code(code);

	if (row)
		return pick(row, lang);
	return lang && strcmp(lang, "zh") == 0 ? "请求失败" : "The request failed";
}

const char *anfu_http_error_text(const char *code, int status, const char *lang)
{
	const struct err_row *row = row_by_code(code);

	if (!row)
		row = row_by_status(status);
	if (row)
		return pick(row, lang);
	return anfu_http_error_message(NULL, lang);
}

/* Length of the longest prefix of s (at most cap bytes) that is whole,
 * valid UTF-8: a client's key cut at 63 bytes may end mid-character. */
static size_t utf8_prefix(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	for (int back = 0; back < 4 && n > 0; back++) {
		if (anfu_utf8_valid(s, n))
			return n;
		n--;
	}
	return anfu_utf8_valid(s, n) ? n : 0;
}

/* Appends ,"key":"v" (no comma when first) with v JSON-escaped. */
static int append_str(struct anfu_buf *out, bool first, const char *key, const char *v, size_t len)
{
	int r = anfu_buf_appendf(out, "%s\"%s\":\"", first ? "" : ",", key);

	if (r == 0)
		r = anfu_buf_append_json_escaped(out, v, len);
	if (r == 0)
		r = anfu_buf_append(out, "\"", 1);
	return r;
}

/* The message, naming the field when there is one ("Unknown field: foo"). */
static int message(const char *code, int status, const char *lang, const char *field, size_t flen,
		   struct anfu_buf *m)
{
	bool zh = lang && strcmp(lang, "zh") == 0;
	int r = anfu_buf_appends(m, anfu_http_error_text(code, status, lang));

	if (r == 0 && flen > 0)
		r = anfu_buf_appends(m, zh ? "：" : ": ");
	if (r == 0 && flen > 0)
		r = anfu_buf_append(m, field, flen);
	return r;
}

int anfu_http_error_render(const char *code, int status, const char *lang, const char *field,
			   const char *request_id, struct anfu_buf *out)
{
	size_t flen = field ? utf8_prefix(field, 63) : 0;
	size_t start = out->len;
	struct anfu_buf m;
	int r;

	anfu_buf_init(&m, 512);
	r = message(code, status, lang, field, flen, &m);
	if (r == 0)
		r = anfu_buf_appends(out, "{\"error\":{");
	if (r == 0)
		r = append_str(out, true, "code", code, strlen(code));
	if (r == 0 && flen > 0)
		r = append_str(out, false, "field", field, flen);
	if (r == 0)
		r = append_str(out, false, "message", m.data, m.len);
	if (r == 0)
		r = append_str(out, false, "request_id", request_id, strlen(request_id));
	if (r == 0)
		r = anfu_buf_appends(out, "}}");
	if (r < 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	anfu_buf_free(&m);
	return r;
}

size_t anfu_http_error_count(void)
{
	return NROWS;
}

int anfu_http_error_row(size_t i, const char **ret_code, int *ret_status)
{
	if (i >= NROWS)
		return ANFU_ENOTFOUND;
	*ret_code = table[i].code;
	*ret_status = table[i].status;
	return 0;
}
