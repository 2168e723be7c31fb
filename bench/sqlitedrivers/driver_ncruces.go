//go:build bench_ncruces

package main

// Since v0.36 the SQLite code is a Go translation of the wasm build
// (github.com/ncruces/go-sqlite3-wasm), compiled into the binary. The
// github.com/ncruces/go-sqlite3/embed package is deprecated there: importing
// it does nothing but print a warning, so it is not imported.
import (
	"strconv"

	_ "github.com/ncruces/go-sqlite3/driver" // registers database/sql driver "sqlite3"
)

func init() {
	const common = "_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	thisDriver = &driverSpec{
		Name:    "ncruces",
		Module:  "github.com/ncruces/go-sqlite3",
		SQLName: "sqlite3",
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
