# ruff: noqa: E501 - one finding per line reads best
"""A second labelled set for bench/grouping_quality.py, written blind: before any embedder was run
on it, and not tuned afterwards.

Another product (a project-management and invoicing app) than bench/data/grouping_findings.py, so
thresholds chosen on one set are tested on the other. Each defect is described in up to five
voices that share little vocabulary: a model's observation, a developer's terse ticket, a support
agent relaying a customer, an analyst's funnel note and a QA reproduction. Near misses sit side by
side: invoice PDF vs. invoice e-mail, an invite link that is "expired" vs. a reset link that is
"already used", a card that snaps back vs. a card that is copied, a double charge vs. no way to
downgrade, a slow board vs. an export that times out.
"""

GROUPS: dict[str, list[str]] = {
    "invoice-pdf-blank": [
        "The user downloads an invoice as PDF from /invoices and the file opens as a blank white page",
        "invoice pdf export renders empty doc, 1 page, no content",
        "Customer says every invoice they download comes out completely empty, nothing printed on it",
        "Repeat downloads of invoice PDFs (3+ per session) suggest the generated document is unusable",
        "Steps: open an invoice, press Download PDF. Expected: the invoice. Actual: a page with no text",
    ],
    "invoice-email-not-sent": [
        'After clicking "Send invoice" a success toast appears, but the client never receives the e-mail',
        "send-invoice returns 200 but no mail leaves the queue",
        "A customer's clients keep asking where their bill is; it was sent from the app days ago and never arrived",
        "Invoices marked as sent are followed by manual resends the next day, so delivery seems to be failing",
        "Steps: send an invoice to a test address. Expected: message in the inbox. Actual: nothing, although the app says sent",
    ],
    "invite-link-expired": [
        'A new teammate opens the invitation link and is told "This invite has expired" minutes after it was sent',
        "team invite tokens expire immediately, TTL looks like seconds not days",
        "Someone invited to the workspace this morning can't join, the page says the invitation is no longer valid",
        "Invited members rarely complete joining; most land on the expired-invite page and leave",
        "Steps: invite a member, open the link at once. Expected: join screen. Actual: invitation expired",
    ],
    "invite-wrong-role": [
        "A member invited as Viewer arrives in the workspace with Admin rights and can delete projects",
        "invite role ignored, everyone gets admin",
        "A client was added as read-only but could change billing settings, which worried the account owner",
        "Permission changes right after joining are frequent: owners demote new members by hand",
        "Steps: invite with role Viewer, accept. Expected: viewer. Actual: the member list shows Admin",
    ],
    "password-reset-already-used": [
        'Clicking the password reset link for the first time shows "This link has already been used"',
        "reset token consumed on GET, mail scanners prefetch it",
        "Customer tried to reset their password three times, each new link said it was already used",
        "Password recovery almost never succeeds; users request several reset e-mails and then contact support",
        "Steps: request a reset, click the link in the e-mail once. Expected: new-password form. Actual: link already used",
    ],
    "timezone-due-dates": [
        "Due dates on tasks show one day earlier than the date that was picked for users in American time zones",
        "due_date stored as UTC midnight, rendered local => off by one west of GMT",
        "A customer in Chicago says every deadline they set moves to the day before",
        "Tasks look overdue a day early for accounts outside Europe, and users keep editing the date back",
        "Steps: set browser to UTC-5, pick the 10th as due date. Expected: 10th. Actual: 9th",
    ],
    "board-card-snaps-back": [
        "Dragging a card to another column on the board looks fine, then it jumps back to where it started",
        "kanban dnd: move not persisted, card reverts after drop",
        "Customer can't move tasks between columns; they slide over and bounce right back",
        "Users repeat the same drag on a card several times in a row, then change the status from the card menu instead",
        "Steps: drag a card from To do to Done. Expected: it stays in Done. Actual: it returns to To do",
    ],
    "board-card-duplicated": [
        "Moving a card to a new column leaves a copy behind, so the task appears in both columns",
        "dnd creates duplicate card instead of move",
        "After moving things around on the board a customer found every task twice",
        "Boards accumulate duplicate tasks after reorganising; users delete the extra copies by hand",
        "Steps: drag a card from Doing to Review. Expected: one card in Review. Actual: one in Doing and one in Review",
    ],
    "notification-badge-stale": [
        "The bell keeps showing 12 unread notifications after every one of them was opened",
        "unread count not decremented on read, badge stale until hard refresh",
        "A customer says the red number on notifications never goes away, even after clearing them",
        "Users open the notification panel repeatedly though nothing new is there, drawn by a count that does not update",
        "Steps: open all notifications, mark all read. Expected: no badge. Actual: badge still shows the old number",
    ],
    "dark-mode-modal-unreadable": [
        "In dark mode the text of the edit-task dialog is black on a dark grey background and cannot be read",
        "modal ignores theme tokens, hardcoded #000 text",
        "Customer using the night theme can't read anything in popup windows",
        "Dark theme users switch back to the light theme after opening a dialog, which hints at a contrast problem",
        "Steps: enable dark mode, open any modal. Expected: light text. Actual: dark text on a dark panel",
    ],
    "session-timeout-loses-draft": [
        "The user writes a long comment, submits it after the session expired, is sent to sign in, and the text is gone",
        "auth expiry on POST drops form body, no draft persistence",
        "A customer lost half an hour of writing because the app logged them out before they pressed post",
        "Long comments are often followed by a login and no comment at all: work is being lost on session expiry",
        "Steps: start a comment, wait past the session timeout, press Post. Expected: comment saved. Actual: login page, draft lost",
    ],
    "assignee-filter-ignored": [
        "Filtering the task list by assignee still shows tasks assigned to everyone",
        "assignee query param dropped by the list endpoint",
        "A customer picks a person in the filter and the list doesn't change at all",
        "Users apply the assignee filter, scroll through unrelated tasks and then search by name instead",
        "Steps: filter by assignee Ana. Expected: Ana's tasks only. Actual: all tasks of the project",
    ],
    "csv-import-day-month": [
        "Importing a CSV of tasks turns 03/04 into the 4th of March instead of the 3rd of April",
        "csv importer parses dd/mm as mm/dd",
        "A customer in the UK imported their schedule and all the dates came out wrong, days and months swapped",
        "After imports many task dates are edited by hand within the hour, mostly for European accounts",
        "Steps: import a file with 12/05/2025. Expected: 12 May. Actual: 5 December",
    ],
    "android-keyboard-covers-send": [
        "On Android the on-screen keyboard covers the comment box and its Send button",
        "android webview: no resize on ime open, composer hidden",
        "A customer on a Samsung phone can't see what they type in comments, the keyboard is over it",
        "Mobile comments from Android are rare compared with iOS; typing seems to be obstructed",
        "Steps: on Android, tap the comment field. Expected: the field scrolls above the keyboard. Actual: it stays hidden behind it",
    ],
    "sms-code-late": [
        "The sign-in verification SMS arrives a few minutes late, after the code it carries has expired",
        "sms otp delivery latency > code ttl",
        "Customer gets their login text message only when it's too late to use it",
        "Two-step sign-ins with SMS often take several code requests before one works",
        "Steps: sign in with SMS verification. Expected: code within seconds. Actual: arrives after about 5 minutes, rejected",
    ],
    "upgrade-double-charge": [
        "Upgrading the plan charges the card twice for the same month",
        "upgrade flow posts two charges, idempotency key missing",
        "A customer's bank statement shows two identical payments the day they moved to the Pro plan",
        "Refund requests spike after plan upgrades because of duplicate payments",
        "Steps: upgrade from Basic to Pro. Expected: one charge. Actual: two charges of the same amount",
    ],
    "downgrade-option-missing": [
        "There is no way to move to a cheaper plan: the billing page only offers upgrades",
        "billing page: downgrade CTA not rendered for annual plans",
        "Customer wants to switch to the smaller plan and can't find the option anywhere",
        "Visitors to the billing page look through every plan and then open a support chat about lowering their plan",
        "Steps: as an annual Pro account, open Billing. Expected: an option to choose Basic. Actual: only upgrade buttons",
    ],
    "avatar-sideways": [
        "Profile photos taken on an iPhone appear rotated by 90 degrees after upload",
        "avatar upload ignores EXIF orientation",
        "A customer's profile picture shows up lying on its side",
        "People upload a profile picture, then immediately upload it again several times",
        "Steps: upload a portrait photo from iOS. Expected: upright avatar. Actual: turned sideways",
    ],
    "onboarding-tour-repeats": [
        'The welcome tour starts again at every sign-in even after the user pressed "Skip tour"',
        "onboarding dismissed flag not persisted server-side",
        "A customer says the introduction walkthrough pops up every single time they log in",
        "Most returning users close the product tour within a second of each login",
        "Steps: skip the tour, sign out, sign in. Expected: no tour. Actual: the tour starts from step one",
    ],
    "large-board-slow": [
        "Opening a project with a few thousand tasks shows a spinner for more than 10 seconds",
        "board endpoint N+1 on labels, p95 12s for big projects",
        "A customer with a big project says it takes forever to open and they think the app is frozen",
        "Sessions on large projects often end while the board is still loading",
        "Steps: open a project with 3,000 tasks. Expected: board in a couple of seconds. Actual: spinner for 12 seconds",
    ],
    "export-timeout": [
        "Exporting a large project to a spreadsheet fails with a 504 gateway timeout",
        "export job runs in request thread, hits proxy 60s limit",
        "A customer can't get their data out: the export of their biggest project ends with an error page",
        "Exports of large projects are retried several times and never finish",
        "Steps: export a project of 3,000 tasks. Expected: a file. Actual: 504 after a minute",
    ],
    "copy-link-dead-firefox": [
        'The "Copy link" button on a task does nothing in Firefox; nothing lands in the clipboard',
        "clipboard API call unguarded, throws in Firefox without permission",
        "Customer using Firefox clicks copy link on a task and pastes their old clipboard instead",
        "Firefox users click Copy link repeatedly on the same task and then copy the address bar instead",
        "Steps: in Firefox, press Copy link on a task and paste. Expected: the task URL. Actual: nothing is copied",
    ],
}
