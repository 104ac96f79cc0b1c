package offboard

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyward/keyward/models"
)

// unbelievableMin is the smallest batch whose user/bulk answer is judged
// (unbelievable): Jira leaves unknown (deleted) accounts out of its
// answer, so a few owners missing from a small batch are taken as
// deleted.
const unbelievableMin = 10

// unbelievable reports whether an answer that names found of asked owners
// misses too many of them to be read as deletions: half or more of a
// batch of at least unbelievableMin. A broken or truncated answer, or an
// app that lost its permission to browse users (Jira answers 404 "does
// not exist or you do not have permission" alike), looks like that, and
// acting on it would revoke a large part of a site at once; a real mass
// deletion is rare, usually reaches keyward as user_deleted events, and
// an admin can revoke those owners by hand.
func unbelievable(asked, found int) bool {
	return asked >= unbelievableMin && (asked-found)*2 >= asked
}

// errNoBrowseUsers is the error of a site where keyward lacks Jira's
// "Browse users and groups" permission: Jira's user API then answers as
// if no account existed.
var errNoBrowseUsers = errors.New(`keyward may not browse users in this Jira site (global permission "Browse users and groups"): Jira's user API would answer as if no account existed, so nothing was changed; grant the permission to the app`)

// mayBrowseUsers checks, before a site's user answers are acted upon, that
// keyward may see the site's users at all.
func (s *Service) mayBrowseUsers(ctx context.Context, t *models.Tenant) error {
	ok, err := s.Jira.CanBrowseUsers(ctx, t)
	switch {
	case err != nil:
		return fmt.Errorf("check permission to browse users: %w", err)
	case !ok:
		return errNoBrowseUsers
	}
	return nil
}

// errUnbelievable describes an answer unbelievable refused.
func errUnbelievable(asked, found int) error {
	return fmt.Errorf("jira's user/bulk answer named only %d of %d owners asked about; nobody in that batch was changed (check that keyward may still browse users in Jira; revoke by hand if they really were deleted)", found, asked)
}
