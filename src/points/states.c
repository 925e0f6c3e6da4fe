/*
 * points/states: the redemption state table, the only place a
 * redemption's state is decided (docs/points.md "States").
 *
 * A redemption is written whole in one writer command, so it is born
 * "completed"; the one move is a cancellation to "cancelled", which is
 * terminal: a redemption is cancelled at most once (FUNC-PAY-12).
 * Owns nothing; trusts nothing.
 */
#include <stddef.h>
#include <string.h>

#include "points/points.h"

struct move {
	const char *from;
	enum anfu_points_event ev;
	const char *to;
};

static const struct move moves[] = {
	{ "completed", ANFU_POINTS_EV_CANCEL, "cancelled" },
};

const char *anfu_points_redemption_next(const char *from, enum anfu_points_event ev)
{
	if (!from)
		return NULL;
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
		if (moves[i].ev == ev && strcmp(moves[i].from, from) == 0)
			return moves[i].to;
	return NULL;
}
