/*
 * xtcache.c
 *		A per-call-site cache of the part of a prediction that depends only on
 *		(frequency, t): the posterior expectation E(t; r + x, alpha + T, a, b + x)
 *		or its discounted increments.  Scoring a whole customer table calls a
 *		prediction once per customer, but with day-resolution data many
 *		customers share (x, T); the cache lives in fn_extra (one per call site,
 *		in the function's memory context) and is reset whenever the model or
 *		the other arguments change, so results are those of the uncached
 *		computation, bit for bit.
 */
#include "clv.h"

#include "utils/memutils.h"

#define XT_MAX_SLOTS	(1 << 19)	/* 12 MB */

typedef struct XtEntry
{
	int32		x;
	bool		used;
	double		T;
	double		value;
} XtEntry;

struct ClvXtCache
{
	double		key[CLV_XT_KEY];	/* model parameters and kind, horizon, ... */
	int64		nslots;
	int64		used;
	XtEntry    *slots;
};

static uint64
xt_hash(int32 x, double T)
{
	return clv_hash_double(T) ^ ((uint64) (uint32) x * UINT64CONST(0x9e3779b97f4a7c15));
}

/*
 * The cache of this call site for configuration `key`, created or reset as
 * needed.
 */
ClvXtCache *
clv_xt_cache(FunctionCallInfo fcinfo, const double *key)
{
	ClvXtCache *c = (ClvXtCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ClvXtCache));
		c->nslots = 1024;
		c->slots = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, c->nslots * sizeof(XtEntry));
		memcpy(c->key, key, sizeof(c->key));
		fcinfo->flinfo->fn_extra = c;
	}
	else if (memcmp(c->key, key, sizeof(c->key)) != 0)
	{
		memset(c->slots, 0, c->nslots * sizeof(XtEntry));
		c->used = 0;
		memcpy(c->key, key, sizeof(c->key));
	}
	return c;
}

bool
clv_xt_lookup(ClvXtCache *c, int32 x, double T, double *value)
{
	uint64		h = xt_hash(x, T) & (c->nslots - 1);

	while (c->slots[h].used)
	{
		if (c->slots[h].x == x && c->slots[h].T == T)
		{
			*value = c->slots[h].value;
			return true;
		}
		h = (h + 1) & (c->nslots - 1);
	}
	return false;
}

void
clv_xt_store(ClvXtCache *c, int32 x, double T, double value)
{
	uint64		h;

	if (2 * (c->used + 1) > c->nslots)
	{
		XtEntry    *old = c->slots;
		int64		oldn = c->nslots;

		if (c->nslots >= XT_MAX_SLOTS)
		{
			/* full: start afresh rather than grow without bound */
			memset(c->slots, 0, c->nslots * sizeof(XtEntry));
			c->used = 0;
		}
		else
		{
			c->nslots *= 2;
			c->slots = MemoryContextAllocZero(GetMemoryChunkContext(old), c->nslots * sizeof(XtEntry));
			c->used = 0;
			for (int64 i = 0; i < oldn; i++)
				if (old[i].used)
					clv_xt_store(c, old[i].x, old[i].T, old[i].value);
			pfree(old);
		}
	}
	h = xt_hash(x, T) & (c->nslots - 1);
	while (c->slots[h].used)
		h = (h + 1) & (c->nslots - 1);
	c->slots[h].used = true;
	c->slots[h].x = x;
	c->slots[h].T = T;
	c->slots[h].value = value;
	c->used++;
}
