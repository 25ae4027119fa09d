"""Job.init/commit: commit persists the bookmarks of the run (awsglue.context.BOOKMARKS)."""
from awsglue import context as _ctx


class Job:
    def __init__(self, glue_context):
        self.glue_context = glue_context
        self.name = None

    def init(self, name, args=None):
        self.name = name
        _ctx.BOOKMARKS.begin(name)

    def commit(self):
        _ctx.BOOKMARKS.commit(self.name)
