"""rrweb constants (rrweb-io/rrweb `packages/types`), named so the rest of the code reads as prose."""

from enum import IntEnum


class EventType(IntEnum):
    DOM_CONTENT_LOADED = 0
    LOAD = 1
    FULL_SNAPSHOT = 2
    INCREMENTAL = 3
    META = 4
    CUSTOM = 5
    PLUGIN = 6


class Source(IntEnum):
    MUTATION = 0
    MOUSE_MOVE = 1
    MOUSE_INTERACTION = 2
    SCROLL = 3
    VIEWPORT_RESIZE = 4
    INPUT = 5
    TOUCH_MOVE = 6
    MEDIA_INTERACTION = 7
    DRAG = 12
    SELECTION = 14


class Interaction(IntEnum):
    MOUSE_UP = 0
    MOUSE_DOWN = 1
    CLICK = 2
    CONTEXT_MENU = 3
    DBL_CLICK = 4
    FOCUS = 5
    BLUR = 6
    TOUCH_START = 7
    TOUCH_MOVE_DEPARTED = 8
    TOUCH_END = 9
    TOUCH_CANCEL = 10


class NodeType(IntEnum):
    DOCUMENT = 0
    DOCUMENT_TYPE = 1
    ELEMENT = 2
    TEXT = 3
    CDATA = 4
    COMMENT = 5


CONSOLE_PLUGIN = "rrweb/console@1"
NETWORK_PLUGIN = "rrweb/network@1"

# Sources that mean a person did something (used for active time and idle gaps).
USER_SOURCES = frozenset(
    {
        Source.MOUSE_MOVE,
        Source.MOUSE_INTERACTION,
        Source.SCROLL,
        Source.INPUT,
        Source.TOUCH_MOVE,
        Source.MEDIA_INTERACTION,
        Source.DRAG,
        Source.SELECTION,
    }
)
