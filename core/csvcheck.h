/* SPDX-License-Identifier: MIT */
/*
 * Checking step metrics written as CSV (E/metrics/NAME.csv): a header line
 * of column names, then one row per step with as many fields.  Fields may
 * be quoted as RFC 4180 says ("a,b", "say ""hi""").
 */
#ifndef CMFFS_CSVCHECK_H
#define CMFFS_CSVCHECK_H

/*
 * Check the bytes of @fd (from offset 0).  0, or -EINVAL with an owned
 * message in *ret_err saying where ("line 3: 2 fields, the header has 3").
 */
int csv_check(int fd, char **ret_err);

#endif
