//go:build bench_modernc

package main

import (
	"strconv"

	_ "modernc.org/sqlite" // registers database/sql driver "sqlite"
)

func init() {
	const common = "_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	thisDriver = &driverSpec{
		Name:    "modernc",
		Module:  "modernc.org/sqlite",
		SQLName: "sqlite",
		WriterDSN: func(path string) string {
			return "file:" + path + "?_pragma=journal_mode(WAL)&" + common + "&_txlock=immediate"
		},
		ReaderDSN: func(path string) string {
			return "file:" + path + "?" + common + "&_pragma=query_only(1)"
		},
		CacheParam: func(kib int) string { return "_pragma=cache_size(-" + strconv.Itoa(kib) + ")" },
		ProbeDSN: func(path string) string {
			return "file:" + path + "?_pragma=busy_timeout(0)"
		},
	}
}
