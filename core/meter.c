/* SPDX-License-Identifier: MIT */
/* Progress lines; see meter.h. */
#include "meter.h"

#include <stdio.h>
#include <string.h>

void meter_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* @s seconds as "M:SS" or "H:MM:SS". */
static void clock_text(double s, char *buf, size_t len)
{
	unsigned long t = s < 0 ? 0 : s > 359999999.0 ? 359999999UL
						     : (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

void meter_format(const struct meter *m, char *buf, size_t len)
{
	char a[32], b[32], left[32];
	double rate = m->elapsed >= 0.1 ? (double)m->bytes_done / m->elapsed
					: 0;
	double remain = -1;
	size_t n;

	n = (size_t)snprintf(buf, len, "%s: %u/%u objects", m->verb, m->done,
			     m->total);
	if (n < len && m->failed)
		n += (size_t)snprintf(buf + n, len - n, " (%u failed)",
				      m->failed);
	if (n < len && m->bytes_total) {
		meter_bytes(m->bytes_done, a, sizeof(a));
		meter_bytes(m->bytes_total, b, sizeof(b));
		n += (size_t)snprintf(buf + n, len - n, ", %s of %s", a, b);
	}
	if (n < len && rate > 0) {
		meter_bytes((uint64_t)rate, a, sizeof(a));
		n += (size_t)snprintf(buf + n, len - n, ", %s/s", a);
	}
	if (m->done >= m->total)
		return;
	if (m->bytes_total && rate > 0)
		remain = (double)(m->bytes_total > m->bytes_done
					  ? m->bytes_total - m->bytes_done
					  : 0) / rate;
	else if (!m->bytes_total && m->done && m->elapsed >= 0.1)
		remain = m->elapsed / m->done * (m->total - m->done);
	if (n < len && remain >= 0) {
		clock_text(remain, left, sizeof(left));
		(void)snprintf(buf + n, len - n, ", %s left", left);
	}
}
