"""Every identifier the Slack app shares between Block Kit builders and listeners, in one place.

Action, block and callback ids are part of the contract with messages already posted in Slack: a button on
last week's draft still carries these ids, so renaming one breaks every open review. Change with care.
"""

from __future__ import annotations

# --- buttons on a draft message (action_id) --------------------------------------------------------------
ACTION_APPROVE = "draft_approve"
ACTION_REQUEST_CHANGES = "draft_request_changes"
ACTION_EDIT = "draft_edit"
ACTION_REGENERATE = "draft_regenerate"
ACTION_REOPEN = "draft_reopen"  # shown instead of the four above once an answer is approved
ACTION_DECISION = "draft_decision"  # a menu: accept / accept in part / no action (the reviewer's choice)
ACTION_CONFIRM = "draft_confirm"  # beside the placeholders: vouch for one as written, with a note

# --- blocks on a draft message (block_id) ----------------------------------------------------------------
BLOCK_MARKING = "draft_marking"
BLOCK_FINDING = "draft_finding"
BLOCK_DRAFT_PREFIX = "draft_text_"  # draft_text_0, draft_text_1 …: a long draft spans several sections
BLOCK_PLACEHOLDERS = "draft_placeholders"
BLOCK_SOURCES = "draft_sources"
BLOCK_PLAN = "draft_plan"
BLOCK_GUARD = "draft_guard"
BLOCK_NOTES = "draft_notes"
BLOCK_STATUS = "draft_status"
BLOCK_ACTIONS = "draft_actions"
BLOCK_TRUNCATED = "draft_truncated"
BLOCK_UNGROUNDED = "draft_ungrounded"

# --- report summary and progress messages ----------------------------------------------------------------
BLOCK_SUMMARY = "report_summary"
BLOCK_SUMMARY_DEADLINE = "report_deadline"
BLOCK_SUMMARY_FINDINGS_PREFIX = "report_findings_"
BLOCK_PROGRESS = "report_progress"
BLOCK_ERROR = "error"

# --- modals (callback_id) and their inputs (block_id / action_id) ----------------------------------------
VIEW_REQUEST_CHANGES = "modal_request_changes"
VIEW_EDIT = "modal_edit"
VIEW_CONFIRM = "modal_confirm"
INPUT_MARKER_BLOCK = "marker_block"
INPUT_MARKER_ACTION = "marker"
INPUT_NOTE_BLOCK = "note_block"
INPUT_NOTE_ACTION = "note"
INPUT_COMMENT_BLOCK = "comment_block"
INPUT_COMMENT_ACTION = "comment"
INPUT_EDIT_BLOCK_PREFIX = "edit_block_"  # edit_block_0 …: a draft over 3,000 characters spans several inputs
INPUT_EDIT_ACTION = "edit_text"

# --- the assistant side panel ----------------------------------------------------------------------------
PROMPT_RECOMMENDATION_TITLE = "Draft a response to a recommendation"
PROMPT_RECOMMENDATION_MESSAGE = (
    "Draft a response to this recommendation: By 31 December 2024, all chief constables should …"
)
PROMPT_REPORT_TITLE = "Draft the response to a report"
PROMPT_REPORT_MESSAGE = "I will upload an HMICFRS report (PDF, Word or text) here: draft the response."
SUGGESTED_PROMPTS = (
    {"title": PROMPT_RECOMMENDATION_TITLE, "message": PROMPT_RECOMMENDATION_MESSAGE},
    {"title": PROMPT_REPORT_TITLE, "message": PROMPT_REPORT_MESSAGE},
)
ASSISTANT_GREETING = (
    "Hello. Paste a recommendation and I will draft the office's response, or upload an inspection report "
    "(PDF, Word or text) and I will draft an answer to every finding. Reviewers approve each one here."
)

# --- Slack's own limits (https://docs.slack.dev/reference/block-kit) -------------------------------------
MAX_SECTION_TEXT = 3000
MAX_MARKDOWN_BLOCK = 12000
MAX_BLOCKS_PER_MESSAGE = 50
MAX_CONTEXT_ELEMENT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_INPUT_INITIAL_VALUE = 3000
MAX_MODAL_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000
MAX_MODAL_TITLE = 24
MAX_FALLBACK_TEXT = 4000  # the notification text; Slack truncates at 40,000 but a preview needs far less

# --- the slash command, App Home and reminders -----------------------------------------------------------
COMMAND = "/hmicfrs"
MAX_HOME_BLOCKS = 100
BLOCK_HOME_HEADER = "home_header"
BLOCK_HOME_PREFIX = "home_inspection_"
BLOCK_REMINDER = "deadline_reminder"
BLOCK_ANNOUNCE = "inspection_announce"

# --- the recommendation register (`/hmicfrs register`, its modals, App Home, owners' reminders) -------------
ACTION_REGISTER_UPDATE = "register_update"  # value: the register item's id
ACTION_REGISTER_ASSIGN = "register_assign"  # value: the register item's id
BLOCK_REGISTER_HEAD = "register_head"
BLOCK_REGISTER_ITEM_PREFIX = "register_item_"  # register_item_<item id>
BLOCK_REGISTER_ACTIONS_PREFIX = "register_actions_"  # register_actions_<item id>
BLOCK_REGISTER_MORE = "register_more"
BLOCK_OWNER_REMINDER = "owner_reminder"
BLOCK_HOME_REGISTER = "home_register"
BLOCK_HOME_ASSIGNED = "home_assigned"
VIEW_REGISTER_UPDATE = "modal_register_update"
VIEW_REGISTER_ASSIGN = "modal_register_assign"
INPUT_REGISTER_STATUS_BLOCK = "register_status_block"
INPUT_REGISTER_STATUS_ACTION = "register_status"
INPUT_REGISTER_RAG_BLOCK = "register_rag_block"
INPUT_REGISTER_RAG_ACTION = "register_rag"
INPUT_REGISTER_NOTE_BLOCK = "register_note_block"
INPUT_REGISTER_NOTE_ACTION = "register_note"
INPUT_REGISTER_EVIDENCE_BLOCK = "register_evidence_block"
INPUT_REGISTER_EVIDENCE_ACTION = "register_evidence"
#: Evidence as files uploaded in the modal (Block Kit's file_input; needs files:read): kept as their permalinks.
INPUT_REGISTER_FILES_BLOCK = "register_files_block"
INPUT_REGISTER_FILES_ACTION = "register_files"
INPUT_REGISTER_OWNER_BLOCK = "register_owner_block"
INPUT_REGISTER_OWNER_ACTION = "register_owner"
INPUT_REGISTER_DUE_BLOCK = "register_due_block"
INPUT_REGISTER_DUE_ACTION = "register_due"

# --- the sign-off chain and findings already answered (on the draft card) --------------------------------
BLOCK_SIGNOFF = "draft_signoff"  # each stage of the chain: who signed and when, or waiting
BLOCK_ANSWERED_PREFIX = "draft_answered_"  # draft_answered_<earlier finding id>: an approved answer it repeats
BLOCK_ANSWERED_NOTE = "draft_answered_note"  # HMICFRS: only the force-specific response is needed
ACTION_REUSE = "draft_reuse"  # value: finding:version:earlier finding id; copies that answer in as a new version
