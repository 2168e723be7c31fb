package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// versionTable reads one of the two version tables (articles', facts'),
// which differ only in their columns.
type versionTable[V any] struct {
	noun    string // "article", "fact"
	table   string
	parent  string // the column naming the article or fact
	columns string
	scan    func(row interface{ Scan(...any) error }) (*V, error)
}

var (
	articleVersions = versionTable[ArticleVersion]{noun: "article", table: "kb_article_versions", parent: "article_id",
		columns: articleVersionColumns, scan: scanArticleVersion}
	factVersions = versionTable[FactVersion]{noun: "fact", table: "kb_fact_versions", parent: "fact_id",
		columns: factVersionColumns, scan: scanFactVersion}
)

// oneTx reads a version in a transaction; version 0 means the latest.
func (t versionTable[V]) oneTx(ctx context.Context, tx *store.Tx, pid id.ID, version int) (*V, error) {
	q := "SELECT " + t.columns + " FROM " + t.table + " WHERE " + t.parent + " = ? AND version = ?"
	args := []any{pid, version}
	if version == 0 {
		q = "SELECT " + t.columns + " FROM " + t.table + " WHERE " + t.parent + " = ? ORDER BY version DESC LIMIT 1"
		args = args[:1]
	}
	v, err := t.scan(tx.QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("%s %s version %d", t.noun, pid, version)
	}
	return v, err
}

// one reads a version.
func (t versionTable[V]) one(ctx context.Context, db *store.DB, pid id.ID, version int) (*V, error) {
	v, err := t.scan(db.QueryRow(ctx, "SELECT "+t.columns+" FROM "+t.table+" WHERE "+t.parent+" = ? AND version = ?", pid, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("%s %s version %d", t.noun, pid, version)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s version: %w", t.noun, err)
	}
	return v, nil
}

// all lists every version, newest first.
func (t versionTable[V]) all(ctx context.Context, db *store.DB, pid id.ID) ([]*V, error) {
	rows, err := db.Query(ctx, "SELECT "+t.columns+" FROM "+t.table+" WHERE "+t.parent+" = ? ORDER BY version DESC", pid)
	if err != nil {
		return nil, fmt.Errorf("listing %s versions: %w", t.noun, err)
	}
	defer rows.Close()
	out := []*V{}
	for rows.Next() {
		v, err := t.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errs.NotFoundf("%s %s", t.noun, pid)
	}
	return out, nil
}
