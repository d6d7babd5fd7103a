/* diskcache.h - faultnative's on-disk thumbnail cache (variant native_disk): rendered thumbnails kept as
 * files under a temporary directory, two levels of 16 shard directories, with a byte quota. */
#ifndef DISKCACHE_H
#define DISKCACHE_H

/* diskcache_open creates the cache under a new temporary directory with files thumbnails; 0, or -1 with
 * a message on stderr. */
int diskcache_open(long files);
/* diskcache_has says whether image id's thumbnail is on disk (under the cache's lock). */
int diskcache_has(long id);
/* diskcache_enforce_quota deletes the oldest files while the cache is over its quota; returns the bytes it
 * holds. With recount set it first walks every shard directory and stats every file (under the cache's
 * lock, as files may be deleted meanwhile); without, it trusts the running total the cache keeps. */
long long diskcache_enforce_quota(int recount);
/* diskcache_remove deletes the cache's files and directories (at exit). */
void diskcache_remove(void);

#endif
