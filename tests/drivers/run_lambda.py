"""Invoke one packaged handler the way Lambda's runtime does, in a bare interpreter (run with -I -S).

argv: handler ("analyze.handler"), event file, then the folders on sys.path in order: the unzipped
package (/var/task), the layers (/opt/python), the runtime's own SDK. Prints the result as JSON.
"""

import importlib
import json
import sys

handler, event_file, *paths = sys.argv[1:]
sys.path[:0] = paths


class Context:
    function_name = "vf-" + handler.split(".")[0].replace("_", "-")
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
    aws_request_id = "req-bare-1"

    def get_remaining_time_in_millis(self) -> int:
        return 290_000


module, function = handler.rsplit(".", 1)
with open(event_file) as f:
    event = json.load(f)
result = getattr(importlib.import_module(module), function)(event, Context())
print("RESULT " + json.dumps(result))
