from django.conf import settings
from django.db import models


class AuditStream(models.Model):
    """The head of one hash chain (one per centre, agency or the national level).

    Writers lock this row, so events of one stream are appended one at a time while
    other streams (other centres) go on in parallel.
    """

    name = models.CharField(max_length=80, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """An append-only audit row. Never updated or deleted (a trigger enforces it on PostgreSQL)."""

    stream = models.CharField(max_length=80)
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="audit_seq_unique_per_stream")]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.action}"
