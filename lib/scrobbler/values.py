"""Value classes for what the service needs at start, without the dataclasses module: importing it
(with the inspect module it pulls in) and running @dataclass cost about a quarter of the service's
start-up. Each class names its FIELDS and sets them in its own __init__; equality, repr and
asdict follow the fields, as a dataclass's would."""


class Value:
    FIELDS = ()
    __hash__ = None  # mutable: unhashable, as a dataclass with eq=True

    def astuple(self):
        return tuple(getattr(self, name) for name in self.FIELDS)

    def asdict(self):
        """The fields as a dict; dict and list values are copied."""
        return {name: _copy(getattr(self, name)) for name in self.FIELDS}

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.astuple() == other.astuple()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % (name, getattr(self, name))
                                                        for name in self.FIELDS))


class FrozenValue(Value):
    """A value whose fields cannot change once made (hashable, like a frozen dataclass)."""

    def _set(self, **fields):
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("cannot assign to field %r of a %s" % (name, type(self).__name__))

    def __delattr__(self, name):
        raise AttributeError("cannot delete field %r of a %s" % (name, type(self).__name__))

    def __hash__(self):
        return hash(self.astuple())


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
