// hash.go - small helpers that many callers share, as real services have (hashing, checksums, scoring).
// A planted fault spends its CPU here, so the helper is never the answer: the caller that runs it far
// more on slow requests is. //go:noinline keeps each helper a frame of its own, whatever the compiler's
// inlining budget; the corpus's expected names rely on it.
package main

// mix scrambles x for rounds rounds (~1.5 ns a round on a 2020s x86 core).
//
//go:noinline
func mix(x uint64, rounds int) uint64 {
	for i := 0; i < rounds; i++ {
		x ^= x >> 29
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 32
	}
	return x
}

// checksum is a CRC-like digest of b, folded rounds times.
//
//go:noinline
func checksum(b []byte, rounds int) uint32 {
	var h uint32 = 2166136261
	for r := 0; r < rounds; r++ {
		for _, c := range b {
			h ^= uint32(c)
			h *= 16777619
		}
	}
	return h
}
