package mailbox

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// How IMAP polling paces itself.
const (
	defaultPoll   = time.Minute
	idleMax       = 25 * time.Minute // RFC 9051: re-issue IDLE before 29 minutes
	rescanPoints  = 30 * time.Second // how often the list of IMAP contact points is re-read
	reconnectWait = 30 * time.Second
	fetchBatch    = 50
)

// imapDial connects and logs in to a contact point's IMAP server; tests
// may set TLSConfig on the service.
func (s *Service) imapDial(ctx context.Context, srv Server, password string, onNew func()) (*imapclient.Client, error) {
	mode := srv.TLS
	if mode == "" {
		mode = "tls"
	}
	port := srv.Port
	if port == 0 {
		port = 993
		if mode != "tls" {
			port = 143
		}
	}
	addr := net.JoinHostPort(srv.Host, strconv.Itoa(port))
	opts := &imapclient.Options{
		TLSConfig: s.TLSConfig,
		Dialer:    &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil && onNew != nil {
					onNew()
				}
			},
		},
	}
	if opts.TLSConfig == nil {
		opts.TLSConfig = &tls.Config{ServerName: srv.Host}
	}
	var c *imapclient.Client
	var err error
	switch mode {
	case "tls":
		c, err = imapclient.DialTLS(addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(addr, opts)
	case "none":
		c, err = imapclient.DialInsecure(addr, opts)
	default:
		return nil, fmt.Errorf("unknown TLS mode %q (tls, starttls or none)", mode)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	if err := c.Login(srv.User, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("logging in to %s as %s: %w", addr, srv.User, err)
	}
	return c, nil
}

// PollOnce connects to the contact point's IMAP server, ingests the new
// mail and disconnects; it returns how many messages it took.
func (s *Service) PollOnce(ctx context.Context, cpID id.ID) (int, error) {
	cp, srv, pw, err := s.imapPoint(ctx, cpID)
	if err != nil {
		return 0, err
	}
	c, err := s.imapDial(ctx, srv, pw, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n, err := s.poll(ctx, c, cp.ID, srv)
	_ = c.Logout().Wait()
	return n, err
}

func (s *Service) imapPoint(ctx context.Context, cpID id.ID) (*contactpoint.ContactPoint, Server, string, error) {
	cp, err := s.contactPoints.Get(ctx, cpID)
	if err != nil {
		return nil, Server{}, "", err
	}
	st := ParseSettings(cp.Settings)
	if cp.Kind != "email" || st.IMAP == nil || st.IMAP.Host == "" {
		return nil, Server{}, "", fmt.Errorf("contact point %s has no IMAP settings", cpID)
	}
	sec, err := s.contactPoints.Secrets(ctx, cpID)
	if err != nil {
		return nil, Server{}, "", err
	}
	srv := *st.IMAP
	if srv.Mailbox == "" {
		srv.Mailbox = "INBOX"
	}
	return cp, srv, sec["imap_password"], nil
}

// poll ingests the messages above the stored UID, oldest first. After each
// message is committed it is marked \Seen (or moved) and the UID stored:
// a crash in between fetches it again and Ingest finds it stored already.
func (s *Service) poll(ctx context.Context, c *imapclient.Client, cpID id.ID, srv Server) (int, error) {
	sel, err := c.Select(srv.Mailbox, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("selecting %s: %w", srv.Mailbox, err)
	}
	validity, last, known, err := s.imapState(ctx, cpID, srv.Mailbox)
	if err != nil {
		return 0, err
	}
	crit := &imap.SearchCriteria{}
	if !known || validity != sel.UIDValidity {
		// A first look, or the server renumbered the folder: take what is
		// unread; Message-IDs keep what was already stored from doubling.
		last = 0
		crit.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // last+1:*
	crit.UID = []imap.UIDSet{set}
	found, err := c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("searching %s: %w", srv.Mailbox, err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) > last { // "n:*" always matches the newest message
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	if !known || validity != sel.UIDValidity {
		// Remember the folder's numbering even when nothing is new.
		if err := s.saveIMAPState(ctx, cpID, srv.Mailbox, sel.UIDValidity, last); err != nil {
			return 0, err
		}
	}
	n := 0
	for start := 0; start < len(uids); start += fetchBatch {
		batch := uids[start:min(start+fetchBatch, len(uids))]
		sizes, err := c.Fetch(imap.UIDSetNum(batch...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return n, fmt.Errorf("fetching sizes: %w", err)
		}
		size := map[imap.UID]int64{}
		for _, m := range sizes {
			size[m.UID] = m.RFC822Size
		}
		for _, uid := range batch {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			if err := s.takeOne(ctx, c, cpID, srv, sel.UIDValidity, uid, size[uid]); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// takeOne ingests one message and then marks it processed.
func (s *Service) takeOne(ctx context.Context, c *imapclient.Client, cpID id.ID, srv Server, validity uint32, uid imap.UID, size int64) error {
	if size > s.opts.MaxMessage {
		s.log.Warn("imap: message over the size limit; left unread and skipped", "contact_point", cpID, "uid", uid, "size", size)
		return s.saveIMAPState(ctx, cpID, srv.Mailbox, validity, uint32(uid))
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return fmt.Errorf("fetching UID %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return s.saveIMAPState(ctx, cpID, srv.Mailbox, validity, uint32(uid)) // expunged meanwhile
	}
	raw := msgs[0].FindBodySection(section)
	res, err := s.Ingest(ctx, cpID, raw)
	switch {
	case errors.Is(err, ErrRefused):
		// It will never be taken: leave it unread for a person to look at.
		s.log.Warn("imap: message refused; left unread", "contact_point", cpID, "uid", uid, "err", err)
		return s.saveIMAPState(ctx, cpID, srv.Mailbox, validity, uint32(uid))
	case err != nil:
		return err
	}
	s.log.Info("imap: message received", "contact_point", cpID, "uid", uid, "interaction", res.InteractionID,
		"case", res.CaseID, "kind", res.Kind, "duplicate", res.Duplicate)
	if srv.MoveTo != "" {
		if _, err := c.Move(imap.UIDSetNum(uid), srv.MoveTo).Wait(); err != nil {
			return fmt.Errorf("moving UID %d to %s: %w", uid, srv.MoveTo, err)
		}
	} else if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		return fmt.Errorf("marking UID %d seen: %w", uid, err)
	}
	return s.saveIMAPState(ctx, cpID, srv.Mailbox, validity, uint32(uid))
}

func (s *Service) imapState(ctx context.Context, cpID id.ID, mailbox string) (validity, last uint32, known bool, err error) {
	var v, l int64
	err = s.db.QueryRow(ctx, "SELECT uid_validity, last_uid FROM email_mailboxes WHERE contact_point_id = ? AND mailbox = ?", cpID, mailbox).Scan(&v, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	return uint32(v), uint32(l), err == nil, err
}

func (s *Service) saveIMAPState(ctx context.Context, cpID id.ID, mailbox string, validity, last uint32) error {
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO email_mailboxes (contact_point_id, mailbox, uid_validity, last_uid, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (contact_point_id, mailbox) DO UPDATE SET uid_validity = excluded.uid_validity,
			last_uid = excluded.last_uid, updated_at = excluded.updated_at`,
			cpID, mailbox, int64(validity), int64(last), s.now().UTC().UnixMicro())
		return err
	})
}

// RunIMAP polls the mailbox of every enabled email contact point with IMAP
// settings until ctx ends: IDLE where the server has it, else every
// poll_seconds. Contact points added or changed are picked up within half
// a minute.
//
// With several nodes each polls too; the stored UID and idempotency by
// Message-ID keep mail from doubling.
func (s *Service) RunIMAP(ctx context.Context) {
	type running struct {
		cancel   context.CancelFunc
		settings string
	}
	workers := map[id.ID]running{}
	defer func() {
		for _, w := range workers {
			w.cancel()
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(rescanPoints)
		cps, err := s.emailPoints(ctx)
		if err != nil {
			s.log.Warn("imap: listing contact points", "err", err)
			continue
		}
		want := map[id.ID]string{}
		for _, cp := range cps {
			if st := ParseSettings(cp.Settings); st.IMAP != nil && st.IMAP.Host != "" {
				want[cp.ID] = string(cp.Settings) + "|" + cp.UpdatedAt.String()
			}
		}
		for cpID, w := range workers {
			if want[cpID] != w.settings {
				w.cancel()
				delete(workers, cpID)
			}
		}
		for cpID, st := range want {
			if _, ok := workers[cpID]; ok {
				continue
			}
			wctx, cancel := context.WithCancel(ctx)
			workers[cpID] = running{cancel: cancel, settings: st}
			go s.watch(wctx, cpID)
		}
	}
}

// watch keeps one contact point's mailbox read, reconnecting after errors.
func (s *Service) watch(ctx context.Context, cpID id.ID) {
	for ctx.Err() == nil {
		if err := s.session(ctx, cpID); err != nil && ctx.Err() == nil {
			s.log.Warn("imap: session ended; reconnecting", "contact_point", cpID, "in", reconnectWait, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(reconnectWait):
		}
	}
}

func (s *Service) session(ctx context.Context, cpID id.ID) error {
	cp, srv, pw, err := s.imapPoint(ctx, cpID)
	if err != nil {
		return err
	}
	news := make(chan struct{}, 1)
	c, err := s.imapDial(ctx, srv, pw, func() {
		select {
		case news <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	poll := defaultPoll
	if srv.PollSeconds > 0 {
		poll = time.Duration(srv.PollSeconds) * time.Second
	}
	for {
		if _, err := s.poll(ctx, c, cp.ID, srv); err != nil {
			return err
		}
		if !c.Caps().Has(imap.CapIdle) {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(poll):
			}
			continue
		}
		idle, err := c.Idle()
		if err != nil {
			return fmt.Errorf("starting IDLE: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-news:
		case <-time.After(idleMax):
		}
		if err := idle.Close(); err != nil {
			return fmt.Errorf("ending IDLE: %w", err)
		}
		if err := idle.Wait(); err != nil {
			return fmt.Errorf("IDLE: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}
