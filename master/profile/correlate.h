/* correlate.h - turns a run's profiles, latency intervals and slow-request exemplars into "findings":
 * which function explains the tail, an endpoint, a bad time window, a wait, a lock or a run-to-run
 * regression. Correlation returns findings; it never calls into the report layer.
 *
 * Methods (docs/report.md "How findings are made"), each a contrast of two populations of samples on the
 * inclusive share of every frame (corrstack.h), with a two-proportion z test:
 *   tail     - CPU samples of requests measured slow (exemplar trace/span ids, corrjoin.h) vs the samples of
 *              requests measured typical;
 *   endpoint - one request name's labelled CPU samples vs the other names' labelled samples, when that
 *              name's latency stands out;
 *   wait     - the same two populations on goroutine profiles polled during the run, or wall-clock
 *              profiles: where requests were parked, off-CPU (corrwait.h; "alloc" for GC assists);
 *   window   - robust anomalous intervals (corrwin.h) vs the others: profile windows overlapping them
 *              against the rest, on all samples (labelled and unlabelled);
 *   lock     - mutex/block profiles: the function releasing a contended lock, and what runs under it
 *              (corrlock.h);
 * Run vs run ("regression"/"improvement") is profdiff.h, called by `loadctl compare`.
 * Each finding: {"kind","request","function","path","share","baseline_share","window","samples":{..},
 * "p_value","evidence","profile","score"}, sorted strongest first (corrrank.h); none below the constants
 * below. */
#ifndef LOADCTL_CORRELATE_H
#define LOADCTL_CORRELATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "master/profile/pprof.h"

/* Every heuristic constant of the correlation methods, in one place. */
#define CORRELATE_MIN_SAMPLES 30 /* sample values needed in the population a claim is about */
#define CORRELATE_FEW_SAMPLES                                                                             \
  15 /* ... or this many when the finding's test is strong (p < STRONG_ALPHA) and the frame separates the \
      * slow requests from their own name's typical ones by presence (corrpres_rare): a rare fault's few  \
      * slow requests carry few CPU samples in a short run. Such a tail finding ranks as weak evidence    \
      * (WEAK_DROP off its score: thin evidence below thick). MIN_SAMPLES: no exception, before stop 30 */
#define CORRELATE_SLEEP                                                                                      \
  1 /* a wait in a sleep (time.Sleep, time.sleep, asyncio.sleep under a service frame: a retry or poll loop) \
     * is not thin evidence below MIN_SAMPLES observations when >= WAIT_SHARE of the slow ones sleep there,  \
     * from >= MIN_BASELINE distinct requests, and the test is strong: goroutine polls (10 a second) catch   \
     * each short request at most once, so the observations are independent, and only the code can put a     \
     * request to sleep (host load or a slow peer cannot). A rate-tested wait's effect takes the typical     \
     * requests' rate relative to the slow ones' for a baseline share of < MIN_BASELINE observations (0: as  \
     * before stop 31) */
#define CORRELATE_MIN_BASELINE                                                                       \
  10                          /* and in the baseline it is contrasted with (fast requests are rarely \
                               * sampled; the z test weighs how few there are) */
#define CORRELATE_ALPHA 0.001 /* a finding is dropped unless its z test gives p < ALPHA */
#define CORRELATE_STRONG_ALPHA                                                                            \
  1e-6 /* strong evidence: p < this (ALPHA over the ~1000 frames a contrast tests, Bonferroni); a finding \
        * with p >= this is weak and ranks below every strong one, whatever its method (corrrank.h) */
#define CORRELATE_WEAK_DROP \
  5.0 /* ... by this much off its score (more than any two scores differ: -0.5 .. 4) */
/* Ranking (corrrank.h), a method's standing: how clean the baseline a finding is contrasted with is. Slow
 * requests against the same name's typical ones (tail; a wait RANK_WAIT lower, a CPU finding first), a lock's
 * holder against the other contending functions, one name against the other names (which run other code by
 * design), the anomalous seconds against the others (everything the process did). The effect (share -
 * baseline_share, or a lock's share of the delay) is added: in [-1, 1]. */
#define CORRELATE_RANK_TAIL 3.0
#define CORRELATE_RANK_LOCK 2.5
#define CORRELATE_RANK_ENDPOINT 2.0
#define CORRELATE_RANK_WINDOW 1.0
#define CORRELATE_RANK_WAIT 0.25
/* A wait found by one name's off-CPU observations against the other names' (the endpoint method on goroutine
 * or wall-clock profiles, kind "wait"): below every other method, the window included. The other names wait
 * in other calls by design, so the frames only this name blocks in always separate: the finding says what
 * the name calls (its own dependency, its own pool), not that something is wrong (in the kept runs 22 of
 * 25 such findings named no planted fault, against >= 95 % true for every other method). */
#define CORRELATE_RANK_ENDPOINT_WAIT 0.5
/* Which request's slowness first (corrrank_weigh_tails): a request's finding (not a window) loses up to this
 * much of its score, by how far its request's p99 falls below the worst p99 among the findings' requests (1 -
 * p99 / worst): of two strong explanations, the one for the heavier tail is where an engineer starts, and a
 * request slow by design on a few of its requests (an uncached lookup, a rare rule set) is a lighter tail
 * than a fault. Up to the gap between a tail and an endpoint finding; never across strong and weak evidence.
 */
#define CORRELATE_RANK_TAIL_WEIGHT 1.0
#define CORRELATE_MIN_DELTA 0.10  /* share - baseline_share a finding needs (effect size) */
#define CORRELATE_MIN_RATIO 1.25  /* and share >= MIN_RATIO x baseline_share */
#define CORRELATE_TOLERANCE 0.05  /* named frame: the outermost within this of the largest difference */
#define CORRELATE_ROOT_SHARE 0.95 /* frames in >= this share of a request's samples are its context */
#define CORRELATE_CHAIN_MIN_SAMPLES                                                                       \
  30 /* ... known from this many CPU samples of the request name (fewer: no context; a wait climbs to the \
      * outermost service frame holding all of it) */
#define CORRELATE_KNOWN_SHARE                                                                                \
  0.5 /* no baseline of a request's own (tail): frames in >= this share of its typical requests (by request) \
       * in any profile (>= MIN_BASELINE samples and requests) are ones they run; the slow ones diverge      \
       * below them, and such a frame is not named as the innermost of their chain */
#define CORRELATE_KNOWN_REQUESTS                                                                         \
  3 /* ... and frames in >= KNOWN_SHARE of the observations of its requests seen parked that have no CPU \
     * sample at all, when >= this many (they run those frames without the CPU work: the slow ones' CPU  \
     * diverges below them; one request that loads while the others wait) */
#define CORRELATE_HOT_PATH \
  0.5 /* ... the slow requests' hot path: the callee holding more than this share of its caller's samples */
#define CORRELATE_ENTRY_SHARE                                                                              \
  0.75 /* the frame every request of a name runs (its entry) is not named when one callee of it holds >=   \
        * this share of its excess of slow over typical: the finding moves down to it (corrdesc.h); also a \
        * frame the no-baseline rule placed below a handler closure, with only closures/plumbing above it */
#define CORRELATE_DOWN_COMMON                                                                              \
  1 /* ... and beyond it, each step down from the frame placed (picked, or placed by the no-baseline rule) \
     * to a callee holding >= ENTRY_SHARE of its excess, when of the frame's samples the callee holds      \
     * a larger share in the slow requests than in the typical ones (>= MIN_DELTA, z test p < ALPHA): the  \
     * frame's other work is alike in both, the callee is where the slow ones' extra time goes, though the \
     * typical ones run it too (corrdesc.h). Not where the callee is the frame's whole body in both, nor   \
     * with no typical sample in the frame. 0: from the entry only, as before stop 31 */
#define CORRELATE_CALL_SITE                                                                                 \
  0.75 /* the call site of library work (corrpres.h): below the frame picked, a service frame handing >=    \
        * this share of its time to library code it calls, reached by callees each holding >= this share of \
        * their caller's excess and running on the slow requests but on few typical ones (per request:      \
        * Fisher p < ALPHA, >= MIN_RATIO x, on < KNOWN_SHARE of typical requests), is named */
#define CORRELATE_CALLBACK                                                                                 \
  1 /* ... and the walk to it passes through library frames (a template engine, reflection, a sort or a    \
     * decoder calling back): the service's own frame below them that holds >= CALL_SITE of the excess and \
     * separates requests is named, whether it calls a library or computes itself (0: the walk stops at    \
     * the first library frame, as before stop 30) */
#define CORRELATE_PRESENCE_POOL                                                                              \
  1 /* ... per-request presence counts a request's wall-clock/goroutine samples with its CPU ones (matched   \
     * by request id): short typical requests rarely have a CPU sample, so a CPU-only count has a handful of \
     * them (0: CPU samples only, as before stop 30) */
#define CORRELATE_HELPER_CALLERS 2 /* a frame with >= this many distinct callers ... */
#define CORRELATE_HELPER_BASE                                                                            \
  0.10 /* ... and >= this share outside the population is a shared helper (never named alone, also where \
        * a wait climbs onto it: its caller in the population is) */
#define CORRELATE_SLOW_FACTOR                                                                              \
  2.0 /* one of the slowest of its second is slow at >= this x its name's median typical exemplar latency; \
       * a typical pick that slow is neither slow nor typical (corrjoin.h) */
/* endpoint/wait by name: the name's latency against the other names' in the median interval (per-interval
 * ratios, so that overloaded seconds where every name is slow do not decide): its tail stands out when its
 * p99 is >= P99 x theirs and its p99 ratio >= P99 x its p50 ratio (a part of its requests slow, not an
 * endpoint heavier by design), its body when its p50 is >= P50 x theirs */
#define CORRELATE_ENDPOINT_P99 1.5
#define CORRELATE_ENDPOINT_P50 4.0
#define CORRELATE_WIN_Z 3.5   /* anomalous interval: robust z = (x - median) / (1.4826 MAD) >= this */
#define CORRELATE_WIN_REL 1.3 /* ... and x >= REL x median (latency, errors) or <= median / REL (rps) */
#define CORRELATE_WIN_FLOOR                                                                                \
  0.05 /* MAD floor as a fraction of the median (flat series); throughput's also >= sqrt(median count) per \
        * interval (random arrivals) */
#define CORRELATE_WIN_STRONGEST                                                                              \
  2.0 /* more than WIN_MAX_FRAC of the intervals anomalous, in some series or other (a busy machine's stalls \
       * beside a fault's seconds): when the strongest stands out by >= this x WIN_Z, the intervals that     \
       * stand out most are kept, up to WIN_MAX_FRAC of them (by their strongest robust z), the others       \
       * dropped; 0: no window judged then, as before stop 31 */
#define CORRELATE_WIN_MIN_COUNT 20 /* a request name's series is judged when its median count >= this */
#define CORRELATE_WIN_MAX_FRAC                                                 \
  0.5 /* no window finding when more than this share of intervals is anomalous \
       */
/* a profile window is anomalous when >= WIN_OVERLAP of it is, or when a slow exemplar (latency >= WIN_REL x
 * the run's median p99, at most one interval) completing in an anomalous span was in flight in it; normal
 * when it overlaps no anomalous interval and no such request (corrwin_class) */
#define CORRELATE_WIN_OVERLAP 0.5
#define CORRELATE_OFFCPU_OVER                                                                               \
  1.0 /* the window finding off CPU (corroff.h: perf sched_switch waits) replaces the CPU one when its rise \
       * (ticks of ~10 ms per second of window) exceeds this x the CPU frame's (samples per second, ~10 ms  \
       * each at perf -F 99): the anomalous seconds' extra thread time is mostly waiting, not computing */
#define CORRELATE_OFFCPU_IDLE                                                                            \
  0.5 /* a frame holding >= this share of the normal windows' off-CPU ticks of the threads that wait in  \
       * it (perf's tids) is where they idle, waiting for work (a connection's read of its next request, \
       * accept, epoll_wait, a job's sleep): more time there is more threads waiting for work (more      \
       * connections) or one seen more (a thread waiting since perf attached is unseen until it runs),   \
       * not a stall. Never named off CPU */
#define CORRELATE_WIN_UNLABELLED                                                                        \
  0.5 /* window rates (samples per second of window): for work with more than this share of its samples \
       * unlabelled (no request's) */
#define CORRELATE_WIN_EXPLAINS                                                                               \
  0.5 /* a request's finding whose slow requests fall >= this share in the spans of a window finding naming  \
       * background work (and more than its typical ones, p < ALPHA) is that work's effect: ranked below it; \
       * so is a lock finding with >= this share of its contention delay in those spans' profile windows     \
       * (or just after; more than their share of the time, p < ALPHA) */
#define CORRELATE_WIN_RARE                                                                                  \
  0.05 /* a window of request work that is one name's, <= this share of the run's requests, while another   \
        * name's p99 rose by WIN_REL in those seconds, is that rare request's harm to everyone: kept beside \
        * the request's own finding (corrwin_harm_spread) */
#define CORRELATE_WIN_REQ_BASE                                                                            \
  20 /* a window frame that is request work is dropped when its requests hold >= this many samples in the \
      * other windows and run it there as much per sample (corrwin_whose): more requests, not a cause */
#define CORRELATE_WAIT_SHARE 0.5 /* wait: share of slow requests' observations parked under one frame */
#define CORRELATE_PARK_REQUESTS                                                                           \
  10 /* wall-clock wait: when >= this many typical requests of the name reach the waiting frame, the slow \
      * ones must stay in it longer per request (>= MIN_RATIO x, Mann-Whitney p < ALPHA; corrpark.h) */
#define CORRELATE_HAND_SPLIT                                                                                 \
  1.0 /* hand-off (corrhand.h): slow requests waiting (>= WAIT_SHARE of their samples) in hand-off machinery \
       * under a service frame, longer than the typical ones (PARK_REQUESTS' test): a profile window is the  \
       * slow waiters' when their share of the waiters' samples in it is >= this x their share over the run, \
       * the typical ones' otherwise; the workers' busy samples in the two are contrasted (shares, as tail)  \
       */
#define CORRELATE_LOCK_SHARE 0.5      /* lock: the releasing function's share of all contention delay */
#define CORRELATE_LOCK_NAME_SHARE 0.8 /* lock: a request name owning >= this share is the finding's */
#define CORRELATE_LOCK_LATENCY                                                                     \
  0.01 /* lock: its contention delay >= this share of the requests' time at the run's typical pace \
        * (corrlat_request_ms) */
#define CORRELATE_LOCK_ACROSS                                                                                \
  0.05 /* lock: a block profile's waiter is the holder only when it also blocks beneath itself, off the      \
        * lock, >= this share of the lock's delay (it holds the lock across a wait of its own, each of which \
        * delays the queue behind it: its waits ~ the queue's delay / the waiters; a share, not the          \
        * requests' time, which a loaded machine inflates) */
#define CORRELATE_LOCK_HEAVY                                                                                \
  0.05 /* lock: contentions are recorded events, not time samples: >= MIN_BASELINE of them suffice (instead \
        * of MIN_SAMPLES) when their delay is >= this share of the requests' time (few, long waits) */
/* lock: a sync.RWMutex's writers' Unlock delay (the queue behind them) is the reader's when the writers'
 * waits for that reader (its RUnlock's delay per contention) are >= this x the queue's (their Unlock's per
 * contention): waiters arriving during a hold wait half of it on average, so the writers spent more than
 * half their hold waiting for the reader to leave */
#define CORRELATE_LOCK_RW_READER 1.0
/* lock: a holder whose delay is < this share of the time the requests lost (their measured time minus their
 * time at the run's typical pace, corrlat_request_ms) explains almost none of the slowdown: a minor lock,
 * ranked with weak evidence (the delay alone cannot tell: 50 ms of 1-7 ms fsync waits is the answer in a run
 * that lost 2 s, not in one that lost 16 s) */
#define CORRELATE_LOCK_EXPLAINS 0.01
/* lock: a holder no request owns (a background persister, a flusher) harms the requests that wait for it: the
 * request name owning (CPU samples) the service frames of >= LOCK_NAME_SHARE of the block profile's mutex
 * waits is the finding's "waiters", and its tail weighs the finding as a request's finding (RANK_TAIL_WEIGHT;
 * 0: such a lock is not weighed, as before stop 31) */
#define CORRELATE_LOCK_WAITERS 1
/* lock: Go's mutex profile charges each wait to the Unlock that ends it, so behind a holder blocked under the
 * lock the queue's short critical sections record its delay. The one releaser of >= LOCK_ACROSS of the delay
 * seen parked beneath itself off the lock (>= MIN_BASELINE goroutine observations: across a wait, holding)
 * takes the delay of releasers seen
 * queuing for a lock (>= MIN_BASELINE observations) and parked off it < LOCK_ACROSS x as often (0: no such
 * move, as before stop 31) */
#define CORRELATE_LOCK_CHAIN 1
#define CORRELATE_HOLD_CALLERS                                                                            \
  2 /* hold: requests parked (channel, select, semaphore) in a function named for acquiring are traced to \
     * the caller of it that blocks most beneath it outside it (holding what it took), among >= this many \
     * callers seen holding (one caller: waiters and holder are one path, the wait method's) */

/* pool (corrpool.h): requests of the anomalous seconds pile up parked in one service function (>= WAIT_SHARE
 * of their goroutine observations there, more of them per second than in the other seconds, the rate test),
 * while goroutines of no request (no labels, not started where requests start) passing through that same
 * function rise there too: they hold what the requests wait for (a client's connections, a pool, a queue's
 * consumers). The window finding names the outermost frame of that work that rose as much (its root), when
 * >= POOL_SHARE of its observations in those seconds pass through the requests' waiting function; tried only
 * when the CPU windows name nothing (1: on; 0: off, as before stop 31) */
#define CORRELATE_POOL 1
#define CORRELATE_POOL_SHARE 0.5

#define CORRELATE_INLINE_CPU                                                                                 \
  0.2 /* inline lock (corrinline.h): a leaf where requests' wall-clock samples stay is parked (waiting in C: \
       * a lock taken with `with lock:`, I/O, a sleep) when its CPU time is <= this share of its wall time   \
       */
#define CORRELATE_INLINE_RISE                                                                               \
  3.0 /* inline lock: the requests' share of samples parked at that leaf in the profile windows where the   \
       * holder runs beneath the same frame must be >= this x their share in the other windows (p < ALPHA): \
       * a queue forms while one thread holds; a wait of each request's own (a sleep, a read, a brief lock) \
       * keeps its share whether the other function runs or not. Also a Go RWMutex's writer computing       \
       * under the lock: the readers' RLock delay per second where its CPU is above the median window's */

#define CORRELATE_INLINE_BACKGROUND                                                                          \
  0.5 /* RWMutex writer (corrinline_writer): a candidate's CPU samples must be mostly (>= this share) no     \
       * request's (a janitor, a sync loop): a request's own work under the write lock is in its samples,    \
       * where the tail and endpoint methods name what runs under it finer than the function taking the lock \
       */

/* One decoded profile window. */
typedef struct correlate_window {
  int64_t start_ms, end_ms; /* wall clock */
  const char *type;         /* "cpu", "mutex", "block", "folded", ... */
  const pprof_profile *prof;
} correlate_window;

/* In-memory inputs (what correlate_run reads from a run directory). All borrowed. */
typedef struct correlate_input {
  const correlate_window *windows;
  size_t nwindows;
  const json_t
      *intervals; /* array of intervals.jsonl objects (t, interval_ms, name, count, p99_ms), or NULL */
  const json_t *exemplars; /* array of exemplars.jsonl objects (t, name, slow[], typical[]), or NULL */
} correlate_input;

/* Findings (new JSON array, sorted strongest first; empty when nothing is supported by enough samples)
 * into *out. 0 or -ENOMEM. */
int correlate_findings(const correlate_input *in, json_t **out);

/* Read run_dir/intervals.jsonl, exemplars.jsonl, profiles/index.jsonl and the "ok" profile windows, and
 * compute the findings (*out, new array). Missing files mean fewer methods apply (not an error); a window
 * that does not decode is skipped. 0, -ENOMEM, or -errno when run_dir is unreadable (message in err). */
int correlate_run(const char *run_dir, json_t **out, char *err, size_t errlen);

/* Everything the profile side adds to a finished run, in one call for the master loop and `loadctl report
 * DIR` (one end-of-run path): correlate_run -> *findings (new array, when findings is not NULL), the profile
 * section run_dir/sections/50-profile.html (flame graphs etc., flame.h) and the merged exports
 * run_dir/profile-<type>.{pb.gz,folded,speedscope.json} (export.h). A run without profiles gets an empty
 * findings array and no section. Returns the number of findings, or a negative errno (message in err); when
 * only the section or the exports failed, *findings is still set. */
int correlate_attach(const char *run_dir, json_t **findings, char *err, size_t errlen);

/* The user frame a sample is attributed to (see above). Never NULL for a sample with a stack. */
const char *correlate_frame(const pprof_profile *p, const pprof_sample *s);

#endif
