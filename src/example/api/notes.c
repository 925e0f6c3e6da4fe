/*
 * example/api/notes: the example module's handlers: decode, call the
 * service, encode. POST /api/v1/example/notes {"text": "..."} stores a
 * note of the signed-in user (201 with the note); GET lists the user's
 * newest notes.
 *
 * Trusts the session authenticator (api/authn.c) for the principal and
 * the JSON decoder for the text rule; checks the length against the
 * [example] max_chars option itself. No SQL here.
 */
#include <stddef.h>
#include <stdlib.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "example/api/module.h"
#include "example/example.h"
#include "http/http.h"

struct note_body {
	struct anfu_str text;
};

static const struct anfu_jfield note_fields[] = {
	{ "text", ANFU_JT_STRING, offsetof(struct note_body, text), true, 1, ANFU_EXAMPLE_CHARS_MAX,
	  NULL },
};

/* Code points of well-formed UTF-8 (the decoder checked it). */
static int64_t code_points(struct anfu_str s)
{
	int64_t n = 0;

	for (size_t i = 0; i < s.len; i++)
		n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
	return n;
}

static json_t *note_json(const struct anfu_example_note *n)
{
	return json_pack("{s:s,s:s,s:I}", "id", n->id, "text", n->text, "created_ms",
			 (json_int_t)n->created_ms);
}

int anfu_example_api_note_add(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_example *ex = anfu_api_service(req->app, &anfu_example_module);
	const struct anfu_actor actor = {
		.id = req->actor_id,
		.type = req->actor_type ? req->actor_type : "",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = "",
		.request_id = req->request_id,
	};
	struct anfu_example_note *note = NULL;
	struct note_body b = { 0 };
	char *text = NULL;
	int r;

	if (!ex || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, note_fields, sizeof(note_fields) / sizeof(note_fields[0]), &b);
	if (r < 0)
		return r;
	if (code_points(b.text) > anfu_example_max_chars(ex))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "text");
	r = anfu_arena_strndup(req->arena, b.text.ptr, b.text.len, &text);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*note), (void **)&note);
	if (r == 0)
		r = anfu_example_note_add(ex, &actor, text, note);
	if (r < 0)
		return r;
	resp->status = 201;
	resp->body = note_json(note);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_example_api_notes(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_example *ex = anfu_api_service(req->app, &anfu_example_module);
	struct anfu_example_note *notes = NULL;
	json_t *list = NULL;
	size_t n = 0;
	int r;

	if (!ex || !req->actor_id)
		return ANFU_EINTERNAL;
	/* On the heap: a full page of long notes is more than a small
	 * request arena holds. */
	notes = anfu_xcalloc(ANFU_EXAMPLE_LIST_MAX, sizeof(*notes));
	r = anfu_example_notes_list(ex, req->actor_id, notes, ANFU_EXAMPLE_LIST_MAX, &n);
	if (r < 0)
		goto out;
	list = json_array();
	for (size_t i = 0; list && i < n; i++)
		if (json_array_append_new(list, note_json(&notes[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	r = ANFU_EINTERNAL;
	if (!list)
		goto out;
	resp->body = json_pack("{s:o}", "notes", list);
	if (resp->body)
		r = 0;
out:
	free(notes);
	return r;
}
