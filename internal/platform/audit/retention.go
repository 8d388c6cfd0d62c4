package audit

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ExpireResult says what one retention run did.
type ExpireResult struct {
	// Exported entries were written to Path (empty when none were).
	Exported int64
	Path     string
	// Deleted entries had been exported, by this run or an earlier one.
	Deleted int64
}

// Paging of a retention run: entries are read and deleted exportPage at a
// time, and one run exports at most maxExportEntries (the next goes on).
const (
	exportPage       = 5000
	maxExportEntries = 1_000_000
)

// Expire exports the entries recorded before cutoff, oldest first, to a
// new JSON-lines file in dir (one Entry per line, mode 0600), and then
// deletes them. The database deletes only entries an export recorded in
// audit_exports holds, so an entry is never deleted unexported. An entry
// recorded before cutoff but after one recorded later (a summary stamped
// with its window's time) waits for the next run.
func (l *Log) Expire(ctx context.Context, cutoff time.Time, dir string) (ExpireResult, error) {
	var res ExpireResult
	var done int64
	if err := l.store.QueryRowContext(ctx, "SELECT COALESCE(MAX(upto_id), 0) FROM audit_exports").Scan(&done); err != nil {
		return res, fmt.Errorf("audit: expire: read exports: %w", err)
	}
	exp, err := l.export(ctx, done, cutoff, dir)
	if err != nil {
		return res, err
	}
	if exp.entries > 0 {
		if _, err := l.store.ExecContext(ctx, `INSERT INTO audit_exports (upto_id, entries, path, sha256, exported_at)
			VALUES (?, ?, ?, ?, ?)`, exp.last, exp.entries, exp.path, exp.sum, l.now().UnixMilli()); err != nil {
			return res, fmt.Errorf("audit: expire: record export %s: %w", exp.path, err)
		}
		res.Exported, res.Path, done = exp.entries, exp.path, exp.last
	}
	for {
		r, err := l.store.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE id <= ? ORDER BY id LIMIT ?)`, done, exportPage)
		if err != nil {
			return res, fmt.Errorf("audit: expire: delete exported entries: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Deleted += n
		if n < exportPage {
			return res, nil
		}
	}
}

type export struct {
	path    string
	entries int64
	last    int64
	sum     string
}

// export writes the entries after id done that were recorded before
// cutoff, stopping at the first that was not.
func (l *Log) export(ctx context.Context, done int64, cutoff time.Time, dir string) (export, error) {
	var out export
	var f *os.File
	var tmp string
	var bw *bufio.Writer
	h := sha256.New()
	defer func() {
		if f != nil { // an error left the file open
			f.Close()
			os.Remove(tmp)
		}
	}()
	for out.entries < maxExportEntries {
		page, err := l.page(ctx, done)
		if err != nil {
			return out, err
		}
		reached := len(page) < exportPage
		for _, e := range page {
			if !e.Time.Before(cutoff) || out.entries >= maxExportEntries {
				reached = true
				break
			}
			if f == nil {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return out, fmt.Errorf("audit: expire: create export directory: %w", err)
				}
				out.path = filepath.Join(dir, fmt.Sprintf("audit-%s-%d.jsonl", l.now().UTC().Format("20060102T150405Z"), e.ID))
				tmp = out.path + ".tmp"
				if f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return out, fmt.Errorf("audit: expire: create export file: %w", err)
				}
				bw = bufio.NewWriter(io.MultiWriter(f, h))
			}
			line, err := json.Marshal(e)
			if err != nil {
				return out, fmt.Errorf("audit: expire: encode entry %d: %w", e.ID, err)
			}
			bw.Write(line)
			bw.WriteByte('\n')
			out.entries++
			out.last = e.ID
			done = e.ID
		}
		if reached {
			break
		}
	}
	if f == nil {
		return out, nil
	}
	if err := bw.Flush(); err != nil {
		return out, fmt.Errorf("audit: expire: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return out, fmt.Errorf("audit: expire: sync %s: %w", tmp, err)
	}
	err := f.Close()
	f = nil
	if err != nil {
		os.Remove(tmp)
		return out, fmt.Errorf("audit: expire: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, out.path); err != nil {
		os.Remove(tmp)
		return out, fmt.Errorf("audit: expire: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	out.sum = hex.EncodeToString(h.Sum(nil))
	return out, nil
}

// page reads up to exportPage entries after id, oldest first.
func (l *Log) page(ctx context.Context, after int64) ([]Entry, error) {
	rows, err := l.store.QueryContext(ctx, "SELECT "+entryColumns+" FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
		after, exportPage)
	if err != nil {
		return nil, fmt.Errorf("audit: expire: read entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: expire: read entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: expire: read entries: %w", err)
	}
	return out, nil
}
