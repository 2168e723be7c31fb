package interaction

import "context"

// OpenJournalStopped opens a journal whose applier starts only when start
// is called, so that a test can race another writer against a promise
// deterministically.
func (s *Service) OpenJournalStopped(ctx context.Context, dir string) (r *Journaled, start func(), err error) {
	r, cur, err := s.openJournal(ctx, dir, JournalOptions{})
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.start(cur) }, nil
}
