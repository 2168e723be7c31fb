package email

import (
	"archive/zip"
	"bytes"
	"path"
	"strings"
)

// isZip reports whether an attachment is a zip archive by name, type or
// signature (a renamed archive is still one).
func isZip(a Attachment) bool {
	switch a.ContentType {
	case "application/zip", "application/x-zip", "application/x-zip-compressed":
		return true
	}
	if strings.EqualFold(path.Ext(a.Filename), ".zip") {
		return true
	}
	return bytes.HasPrefix(a.Data, []byte("PK\x03\x04"))
}

// zipRatioFloor: below this many declared bytes a high ratio is harmless
// (a small text file of repeated lines compresses 1000:1).
const zipRatioFloor = 1 << 20

// checkZip refuses a zip whose central directory declares more files,
// more uncompressed bytes, or more compression than allowed. It reads only
// the directory; nothing is decompressed. Declared sizes can lie, but a
// reader that later unpacks the file must enforce them anyway (archive/zip
// does), so a lie makes extraction fail rather than explode. Archives that
// do not open are left to whoever opens them.
func checkZip(data []byte, lim Limits, label string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	if n := len(zr.File); n > lim.MaxZipEntries {
		return &LimitError{Err: ErrZipBomb, What: "zip entries", Part: label, Limit: int64(lim.MaxZipEntries), Got: int64(n)}
	}
	var expanded uint64
	for _, f := range zr.File {
		expanded += f.UncompressedSize64
		if expanded > uint64(lim.MaxZipExpanded) || expanded < f.UncompressedSize64 {
			return &LimitError{Err: ErrZipBomb, What: "zip uncompressed size", Part: label, Limit: lim.MaxZipExpanded}
		}
	}
	if expanded < zipRatioFloor {
		return nil
	}
	// The ratio is taken over the archive's real size, not the compressed
	// sizes it declares: overlapping-entry bombs reuse the same bytes.
	if ratio := expanded / uint64(len(data)); ratio > uint64(lim.MaxZipRatio) {
		return &LimitError{Err: ErrZipBomb, What: "zip compression ratio", Part: label, Limit: lim.MaxZipRatio, Got: int64(ratio)}
	}
	return nil
}
