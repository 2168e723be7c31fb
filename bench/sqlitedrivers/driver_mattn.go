//go:build bench_mattn

package main

import (
	"strconv"

	_ "github.com/mattn/go-sqlite3" // registers database/sql driver "sqlite3"; needs cgo and a C compiler
)

func init() {
	const common = "_busy_timeout=10000&_synchronous=NORMAL&_foreign_keys=1"
	thisDriver = &driverSpec{
		Name:    "mattn",
		Module:  "github.com/mattn/go-sqlite3",
		SQLName: "sqlite3",
		WriterDSN: func(path string) string {
			return "file:" + path + "?_journal_mode=WAL&" + common + "&_txlock=immediate"
		},
		ReaderDSN: func(path string) string {
			return "file:" + path + "?" + common + "&_query_only=1"
		},
		CacheParam: func(kib int) string { return "_cache_size=-" + strconv.Itoa(kib) },
		ProbeDSN: func(path string) string {
			return "file:" + path + "?_busy_timeout=0"
		},
	}
}
