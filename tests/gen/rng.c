/*
 * rng.c - the generator's only source of randomness: xoshiro256** seeded
 * through splitmix64 (both public-domain algorithms by Blackman and Vigna,
 * written out here from their published definitions).  Pure integer
 * arithmetic, so a seed gives the same stream on every host and compiler.
 */
#include "gen.h"

static uint64_t	 splitmix64(uint64_t *);
static uint64_t	 rotl(uint64_t, int);

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z;

	z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Independent streams of one seed: the stream number perturbs the seed. */
void
rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x;
	int i;

	x = seed ^ (stream * 0xd1342543de82ef95ULL);
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result, t;

	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Rejects the top partial range so every value is equally likely. */
uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t x, lim;

	lim = UINT64_MAX - UINT64_MAX % n;
	do
		x = rng_next(r);
	while (x >= lim);
	return x % n;
}
