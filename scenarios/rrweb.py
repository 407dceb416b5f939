"""The rrweb numbers the builder writes (rrweb-io/rrweb `packages/types`, libraries.md §7.1)."""

# EventType
FULL_SNAPSHOT, INCREMENTAL, META, CUSTOM, PLUGIN = 2, 3, 4, 5, 6

# IncrementalSource (`data.source` of an incremental snapshot)
MUTATION, MOUSE_MOVE, MOUSE_INTERACTION, SCROLL, VIEWPORT_RESIZE, INPUT, TOUCH_MOVE = 0, 1, 2, 3, 4, 5, 6
SELECTION = 14

# MouseInteractions (`data.type` when the source is MOUSE_INTERACTION)
MOUSE_UP, MOUSE_DOWN, CLICK, DBL_CLICK, FOCUS, BLUR, TOUCH_START, TOUCH_END = 0, 1, 2, 4, 5, 6, 7, 9
