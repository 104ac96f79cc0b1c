package offboard

import "fmt"

// unbelievableMin is the smallest batch whose user/bulk answer is judged
// (unbelievable): Jira leaves unknown (deleted) accounts out of its
// answer, so a few owners missing from a small batch are taken as
// deleted.
const unbelievableMin = 10

// unbelievable reports whether an answer that names found of asked owners
// misses too many of them to be read as deletions: more than half of a
// batch of at least unbelievableMin. A broken or truncated answer, or an
// app that lost its permission to browse users (Jira answers 404 "does
// not exist or you do not have permission" alike), looks like that, and
// acting on it would revoke a large part of a site at once; a real mass
// deletion is rare, usually reaches keyward as user_deleted events, and
// an admin can revoke those owners by hand.
func unbelievable(asked, found int) bool {
	return asked >= unbelievableMin && (asked-found)*2 > asked
}

// errUnbelievable describes an answer unbelievable refused.
func errUnbelievable(asked, found int) error {
	return fmt.Errorf("jira's user/bulk answer named only %d of %d owners asked about; nobody in that batch was changed (check that keyward may still browse users in Jira; revoke by hand if they really were deleted)", found, asked)
}
