/* SPDX-License-Identifier: MIT
 *
 * budget — the budget's ledger: a monthly budget (calendar month, UTC), a per-job cap, and per job
 * a reservation at launch, accruals while it runs and a settlement at the end, in the state
 * database (vibeml.db, component "money"). Money is exact: amounts are integer micro-dollars
 * (1 USD = 1,000,000), never floating point, inside C and in SQL.
 *
 * Tables (migrations of component "money"):
 *   money_settings(key PRIMARY KEY, value INTEGER)  monthly_limit, per_job_cap (µ$; absent = none)
 *   money_ledger(job_id PRIMARY KEY, month 'YYYY-MM', state reserved|settled, reserved, accrued,
 *                final, cap, override, override_by, pid, pid_start, host, created, updated,
 *                settled_at, note)
 *   money_events(id, at, job_id, kind, amount, detail)  an append-only journal of every change
 * A job counts against the month it was reserved in. What a month has used = the finals of its
 * settled jobs + for each open reservation max(reserved, accrued).
 *
 * Atomicity: reserve is ONE `BEGIN IMMEDIATE` transaction that reads the month's use and inserts
 * the reservation, so processes launching at the same time are serialised by SQLite's write lock
 * and can never together pass the limit. Settlement is one transaction too.
 *
 * Crash safety (vml_budget_reconcile, run when a ledger is opened and at most once a minute after
 * that): a process killed inside reserve or settle leaves the previous state (SQLite rolls the
 * transaction back). An open reservation is then resolved:
 *   - its job has ended: settled at the larger of the ledger's accrued cost and the job's cost, so
 *     no charge is lost. What a job is, whether it ended and what it cost is the jobs component's
 *     to say: the ledger reads only its view `job_outcomes(id, ended, cost_usd)` (defined by the
 *     migrations in lua/vibeml/jobs/db.lua; `id` = the reservation's job_id, `ended` 0/1,
 *     `cost_usd` in USD);
 *   - the view exists but has no row for it, the reservation is older than the grace period
 *     (VIBEML_BUDGET_GRACE seconds, default 300) and the process that made it is gone (same
 *     host: pid and start time; another host: after 24 h): released, charged what had accrued
 *     (normally 0): the launch never recorded its job, so nothing ran. Without the view nothing
 *     is released (nobody could tell whether the job runs).
 * The launch therefore records its job row (state pending) before or right after reserving, and
 * uses the same id.
 *
 * This file returns numbers and codes; the words around them (refusals, warnings) and the warning
 * threshold are policy, in lua/vibeml/budget.lua.
 *
 * Uses: store, err, jansson, SQLite.
 */
#ifndef VML_BUDGET_H
#define VML_BUDGET_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "err.h"

#define VML_MICROS_PER_USD INT64_C(1000000)
#define VML_BUDGET_NONE INT64_C(-1) /* no limit / no cap */

typedef struct vml_budget vml_budget;

/* The numbers behind a reservation decision (all µ$; VML_BUDGET_NONE when not applicable). */
typedef struct vml_budget_info {
    char month[8];       /* "2026-11" */
    int64_t limit;       /* monthly limit, or NONE */
    int64_t used;        /* spent + held this month, before this reservation */
    int64_t remaining;   /* limit - used (may be negative), or NONE */
    int64_t needed;      /* what this reservation holds */
    int64_t estimate;    /* the amount asked for (plan's max estimate) */
    int64_t cap;         /* the job's effective cap (min of its own and the per-job cap) or NONE */
    int64_t per_job_cap; /* the setting, or NONE */
    int capped;          /* 1: the estimate exceeds the cap; the job will be stopped at the cap */
    int override;        /* 1: reserved beyond the limit with a person's approval */
    int existing;        /* 1: the job already had a reservation (reserve is idempotent) */
    int64_t old_cap;     /* set_cap: the cap before the change, or NONE */
    int64_t accrued;     /* set_cap: the job's cost so far */
} vml_budget_info;

/* Opens the ledger in the database at db_path (NULL = the state folder's vibeml.db), applies the
 * "money" migrations and reconciles. *out is the caller's (vml_budget_close). */
int vml_budget_open(const char *db_path, vml_budget **out, vml_err *err);
void vml_budget_close(vml_budget *b);
/* The connection (borrowed), e.g. for tests that sum the ledger. */
sqlite3 *vml_budget_db(vml_budget *b);

/* Limits. Pass VML_BUDGET_NONE to remove one; which: 1 monthly, 2 per-job, 3 both. */
int vml_budget_set_limits(vml_budget *b, unsigned which, int64_t monthly, int64_t per_job,
                          vml_err *err);
int vml_budget_get_limits(vml_budget *b, int64_t *monthly, int64_t *per_job, vml_err *err);

/* Check-and-reserve in one BEGIN IMMEDIATE transaction. amount: the plan's max estimate (µ$,
 * > 0); cap: the job's own cap or NONE. The reservation is the effective cap when there is one,
 * else amount. Over the monthly limit: VML_EMONEY with info filled (the numbers a refusal gives),
 * unless override (then reserved and recorded as an override by override_by, e.g.
 * "elicitation" or "cli"). A job that already has an open or settled entry: 0, info->existing.
 * info may be NULL. */
int vml_budget_reserve(vml_budget *b, const char *job_id, int64_t amount, int64_t cap, int override,
                       const char *override_by, vml_budget_info *info, vml_err *err);
/* Changes the cap of a job whose reservation is open (the job runs): the reservation becomes
 * new_cap (µ$, > 0), in one BEGIN IMMEDIATE transaction like reserve. info->needed is the change
 * of what the month holds for it (new_cap - max(reserved, accrued); negative when lowered),
 * info->old_cap and info->accrued are filled. Refused, with info filled: VML_EINVAL when new_cap
 * is below the cost so far; VML_EMONEY when a raise takes the month over its limit or the cap
 * above the per-job cap, unless override (then recorded as an override by override_by);
 * VML_ESTATE when the entry is settled; VML_ENOENT when the job has no entry. */
int vml_budget_set_cap(vml_budget *b, const char *job_id, int64_t new_cap, int override,
                       const char *override_by, vml_budget_info *info, vml_err *err);
/* Records cost so far (µ$, monotonic: a smaller value is ignored). *over_cap (may be NULL): 1
 * when the accrued cost reached the job's cap. *cap_out (may be NULL): the cap or NONE.
 * VML_ENOENT when the job has no open reservation. */
int vml_budget_accrue(vml_budget *b, const char *job_id, int64_t cost, int *over_cap,
                      int64_t *cap_out, vml_err *err);
/* Final cost (µ$): the entry becomes settled and the month is charged final. Idempotent: a
 * settled entry keeps its first final. A job without a reservation gets a settled entry (a
 * charge is never dropped). */
int vml_budget_settle(vml_budget *b, const char *job_id, int64_t final, vml_err *err);
/* Ends a reservation whose job did not run (launch failed): settles at what had accrued. */
int vml_budget_release(vml_budget *b, const char *job_id, vml_err *err);

/* Resolves open reservations as described at the top; grace < 0 = VIBEML_BUDGET_GRACE or 300.
 * *fixed (may be NULL) gets the number of entries settled or released. */
int vml_budget_reconcile(vml_budget *b, double grace, int *fixed, vml_err *err);

/* The month's summary as a new JSON object (amounts in USD as numbers, exact to the µ$):
 * {month, monthly_limit|null, spent, reserved, remaining|null, used_percent|null,
 *  per_job_cap|null, jobs:[{job_id, state, reserved, accrued, final|null, cap|null, override,
 *  override_by|null, created}]}. month NULL = the current one. */
int vml_budget_status(vml_budget *b, const char *month, json_t **out, vml_err *err);

/* Money text. parse: "12", "12.5", "$12.345678", "1,250.00" -> µ$, exactly (more than 6
 * decimals, negatives and junk are VML_EINVAL). format: "$12.50" (cents), or up to 6 decimals
 * when the amount has fractions of a cent; "-$1.00" for negatives. */
int vml_budget_parse_usd(const char *text, int64_t *out, vml_err *err);
const char *vml_budget_format_usd(int64_t micros, char *buf, size_t n);
/* USD (a Lua/JSON number) to µ$, rounded to the nearest µ$. VML_EINVAL for NaN/Inf/huge. */
int vml_budget_from_double(double usd, int64_t *out, vml_err *err);

/* The current month "YYYY-MM" (UTC). Tests may set VIBEML_BUDGET_NOW (seconds since the epoch). */
void vml_budget_month(char buf[8]);

#endif
