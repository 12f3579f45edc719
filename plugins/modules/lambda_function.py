#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lambda_function
version_added: 0.1.0
short_description: Deploy one Lambda function from a local zip file in many regions in one task
description:
  - Makes sure one Lambda function, with the code of a local zip file, its configuration and its tags, exists
    (O(state=present)) or does not exist (O(state=absent)) in each region of O(regions), in one module run, with one
    boto3 session, one client and one thread per region. Lambda has no multi-region call, so the API calls are those
    of a loop over the regions; what the module saves is the control node's work. A task looped over 17 regions
    starts 17 Python processes, each importing boto3 and building its client, and at organization scale
    (100 accounts x 17 regions) that CPU is the limit.
  - M(amazon.aws.lambda) (amazon.aws 10.1.2) manages a function in one region per run, and community.aws 10.0.0 has
    no Lambda function module at all, so neither can do this in one run.
  - A missing function is created with C(CreateFunction) (the zip, the configuration and the tags; no version is
    published), then the module waits until its C(State) is C(Active).
  - An existing function is compared with what is wanted, and only what differs is written. The configuration
    (O(runtime), O(handler), O(role), O(description), O(memory_size), O(timeout), O(environment_variables)) is
    updated with C(UpdateFunctionConfiguration), the code with C(UpdateFunctionCode) when the SHA-256 of the zip
    file (base64, as Lambda gives C(CodeSha256)) differs, and the tags with C(TagResource) and C(UntagResource)
    (read from C(GetFunction), which returns them to a caller that C(lambda:ListTags) allows, else with C(ListTags);
    U(https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html)). A function accepts one update at a time and answers C(ResourceConflictException) to
    another while C(LastUpdateStatus) is C(InProgress), so the module waits for C(Successful) after each update
    (U(https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html)).
  - Settings the module has no option for (layers, VPC, architectures, dead-letter queue, tracing, ...) are not
    changed on an existing function, nor is the KMS key when O(kms_key_arn) is not given. Unlike
    M(amazon.aws.lambda), no version is published; the unqualified function ARN invokes C($LATEST).
  - O(state=absent) deletes the function (C(DeleteFunction)) in every region where it exists.
  - All input is validated before any AWS call; errors name the parameter. The zip file is read once.
  - Right after the execution role was created, C(CreateFunction) and C(UpdateFunctionConfiguration) answer
    C(InvalidParameterValueException) "The role defined for the function cannot be assumed by Lambda." while
    IAM propagates the role; exactly that answer (and the other IAM propagation answers of Lambda) is retried for
    about two minutes, as is throttling (C(TooManyRequestsException)).
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the function (1 to 64 letters, digits, V(-) or V(_); a plain name, not an ARN).
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the function, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
  regions:
    description:
      - The regions. When not given, the one region of O(region).
      - Check mode, diff and errors are per region. When a region fails, the others are still done and the task
        fails with a message naming every region that failed (RV(regions) has each region's result).
    type: list
    elements: str
  zip_file:
    description:
      - Path of the deployment package on the control node, a zip file of at most 50 MB (the limit of a zip
        uploaded with the API, U(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)).
      - Required when O(state=present), unless O(src) is given. Mutually exclusive with O(src).
    type: path
  src:
    description:
      - A directory whose files are the deployment package, zipped in memory the way
        M(logvault.aws.lambda_package) zips a directory (sorted entries, fixed timestamp and modes, no byte code),
        so the same files always give the same C(CodeSha256) and nothing is written on the control node.
      - Instead of O(zip_file) when the package is one directory; it saves the tasks that make a scratch directory,
        build the zip and remove it.
    type: path
  runtime:
    description:
      - The runtime, for example V(python3.12).
      - Required when O(state=present).
    type: str
  handler:
    description:
      - The function's entry point in the code, for example V(app.handler) (at most 128 characters, no spaces).
      - Required when O(state=present).
    type: str
  role:
    description:
      - ARN of the function's execution role (C(arn:aws:iam::ACCOUNT:role/NAME)).
      - Required when O(state=present).
    type: str
  description:
    description:
      - Description of the function (at most 256 characters).
    type: str
    default: ""
  memory_size:
    description:
      - Memory of the function in MB (128 to 10240).
    type: int
    default: 128
  timeout:
    description:
      - Seconds an invocation may run (1 to 900).
    type: int
    default: 3
  environment_variables:
    description:
      - The function's environment variables; all of them (a variable the function has and that is not listed
        is removed; V({}) removes every variable).
      - Names are a letter then letters, digits or V(_) (at least two characters,
        U(https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html)); values are strings (numbers
        are converted to text).
    type: dict
    default: {}
  kms_key_arn:
    description:
      - ARN of the customer managed KMS key that encrypts the function's environment variables at rest
        (C(KMSKeyArn), U(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html)).
        V("") (an empty string) sets Lambda's own key back.
      - When not given, the key of an existing function is not changed, and a new function uses Lambda's own key.
      - Compared with the function's C(KMSKeyArn), and written with C(UpdateFunctionConfiguration) only when it
        differs, so a converged function reports no change (M(amazon.aws.lambda) 10.1.2 writes it, and reports a
        change, whenever its O(amazon.aws.lambda#module:kms_key_arn) is given).
      - A key is regional and Lambda uses a key of the function's region, so the key's region must be the region of
        the function (every region of O(regions)).
      - With a customer managed key, only users of the account with access to the key can view or manage the
        function's environment variables (Securing Lambda environment variables, the page above), so the key's
        policy must let the caller of this module use it, and the function's execution role decrypt with it.
    type: str
  tags:
    description:
      - Tags of the function (at most 50; keys of 1 to 128 characters that do not start with V(aws:),
        values of at most 256 characters; numbers are converted to text).
    type: dict
    default: {}
  purge_tags:
    description:
      - Remove the tags of an existing function that are not in O(tags), as M(amazon.aws.lambda) does by
        default. Tags whose key starts with V(aws:) are never removed.
    type: bool
    default: true
  schedule:
    description:
      - An Amazon EventBridge Scheduler schedule in each region that invokes that region's function (its unqualified
        ARN), managed in the same module run. It does what M(logvault.aws.scheduler_schedule) does with its
        O(logvault.aws.scheduler_schedule#module:target.arn) set to the function, without a second Python process
        on the control node for every account (docs/organization-scale.md).
      - With O(state=present) the schedule is created or updated after the function (a new function's ARN is known
        only then), in every region whose function succeeded. With O(state=absent) the schedule is deleted first,
        whatever O(schedule.state) says, so that nothing invokes a function that is gone; a region whose schedule
        could not be deleted keeps its function, and the task fails naming that region.
      - The schedule is compared and written as M(logvault.aws.scheduler_schedule) does (C(UpdateSchedule) replaces
        the whole schedule, U(https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html)),
        and C(CreateSchedule) and C(UpdateSchedule) are retried while IAM propagates a new O(schedule.role_arn).
      - When not given, no schedule is managed (an existing one is left alone).
    type: dict
    suboptions:
      name:
        description: Name of the schedule (1 to 64 letters, digits, V(.), V(-) or V(_)). Defaults to O(name).
        type: str
      state:
        description:
          - V(present) makes sure the schedule invokes the function, V(absent) deletes it (and keeps the function).
          - With O(state=absent) the schedule is always deleted.
        choices: ['present', 'absent']
        default: present
        type: str
      group_name:
        description: The schedule group (it must exist in every region; V(default) always does).
        default: default
        type: str
      schedule_expression:
        description:
          - C(rate(value unit)), C(cron(...)) or C(at(...)) (at most 256 characters), for example V(rate(5 minutes));
            the smallest rate is one minute (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)).
          - Required when the schedule is present.
        type: str
      schedule_expression_timezone:
        description: Time zone of a C(cron) or C(at) expression.
        default: UTC
        type: str
      description:
        description: Description of the schedule (at most 512 characters).
        default: ""
        type: str
      enabled:
        description: V(true) sets the schedule's state to C(ENABLED), V(false) to C(DISABLED).
        default: true
        type: bool
      flexible_time_window_minutes:
        description:
          - V(0) invokes at the scheduled time (C(FlexibleTimeWindow) mode C(OFF)); 1 to 1440 lets Scheduler invoke
            within that many minutes after it (mode C(FLEXIBLE)).
        default: 0
        type: int
      role_arn:
        description:
          - The role Scheduler assumes to invoke the function (C(lambda:InvokeFunction) on it). Its trust policy names
            the principal C(scheduler.amazonaws.com)
            (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role)).
          - Required when the schedule is present.
        type: str
      input:
        description:
          - The event the function gets, at most 8,192 characters; a dict is sent as JSON and compared as JSON.
            Scheduler's context attributes such as C(<aws.scheduler.scheduled-time>) are kept as text
            (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html)).
        type: json
      maximum_retry_attempts:
        description: Retries of a failed invocation (0 to 185).
        default: 185
        type: int
      maximum_event_age_in_seconds:
        description: How long Scheduler keeps retrying an invocation (60 to 86400 seconds).
        default: 86400
        type: int
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. In check mode, the ARN of a function that
    would be created is built from the caller's account and partition, read with one STS C(GetCallerIdentity) call
    per module run (only then); when that call fails, the module warns and returns no ARN for it.
  - With C(--diff) the module returns, for each region that changes, the function before and after, with
    C(before_header) and C(after_header) naming the region.
  - The module calls C(GetFunction), C(ListTags), C(CreateFunction), C(UpdateFunctionConfiguration),
    C(UpdateFunctionCode), C(TagResource), C(UntagResource) and C(DeleteFunction) on Lambda (C(GetFunction)
    also to wait), and C(GetCallerIdentity) on STS in check mode. C(CreateFunction) and a change of O(role) also
    need C(iam:PassRole) on the role. With O(schedule), it also calls C(GetSchedule), C(CreateSchedule),
    C(UpdateSchedule) and C(DeleteSchedule) on EventBridge Scheduler, and creating or updating the schedule needs
    C(iam:PassRole) on O(schedule.role_arn).
seealso:
  - module: amazon.aws.lambda
  - name: CreateFunction API
    description: The Lambda API that creates the function.
    link: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
  - name: UpdateFunctionConfiguration API
    description: The Lambda API that changes the function's configuration.
    link: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
  - name: UpdateFunctionCode API
    description: The Lambda API that replaces the function's code.
    link: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
  - name: Lambda function states
    description: C(State) and C(LastUpdateStatus), and why a function takes one update at a time.
    link: https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the canary function in three regions
  logvault.aws.lambda_function:
    name: logvault-canary
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    runtime: python3.12
    handler: logvault_canary.handler
    role: arn:aws:iam::111111111111:role/logvault-canary
    zip_file: /tmp/canary/canary.zip
    description: "logvault: writes one canary event per scheduled invocation"
    memory_size: 128
    timeout: 30
    environment_variables:
      CANARY_LOG_GROUP: /logvault/canary
    tags:
      logvault:managed-by: logvault.aws
  register: canary_function

- name: Deploy a function from its source directory (zipped in memory, deterministically)
  logvault.aws.lambda_function:
    name: logvault-canary
    regions: [us-east-1, eu-west-1]
    runtime: python3.12
    handler: logvault_canary.handler
    role: arn:aws:iam::111111111111:role/logvault-canary
    src: "{{ role_path }}/files/canary_lambda"

- name: Delete the canary function in those regions
  logvault.aws.lambda_function:
    name: logvault-canary
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    state: absent

- name: Deploy the canary function and the schedule that invokes it every five minutes, in one module run
  logvault.aws.lambda_function:
    name: logvault-canary
    regions: [us-east-1, eu-west-1]
    runtime: python3.12
    handler: logvault_canary.handler
    role: arn:aws:iam::111111111111:role/logvault-canary
    src: "{{ role_path }}/files/canary_lambda"
    schedule:
      schedule_expression: rate(5 minutes)
      role_arn: arn:aws:iam::111111111111:role/logvault-canary-scheduler
      input:
        scheduled_time: <aws.scheduler.scheduled-time>
      maximum_retry_attempts: 0
      maximum_event_age_in_seconds: 60

- name: Delete the schedule, then the function, in those regions
  logvault.aws.lambda_function:
    name: logvault-canary
    regions: [us-east-1, eu-west-1]
    schedule: {}
    state: absent
"""

RETURN = r"""
regions:
  description: Each region's result, by region name.
  returned: always
  type: dict
  contains:
    changed:
      description:
        - Whether the function of this region was (or, in check mode, would be) created, changed or deleted.
        - In a region that failed, whether a write was done before the failure.
      type: bool
      returned: always
    action:
      description: V(created), V(updated), V(unchanged), V(deleted), or V(absent) (O(state=absent) and there was no function).
      type: str
      returned: when the region succeeded
    function:
      description:
        - The function after the task, with C(function_name), C(function_arn) (unqualified), C(runtime), C(handler),
          C(role), C(code_sha256) (base64 of the SHA-256 of the zip), C(memory_size), C(timeout), C(description),
          C(environment_variables), C(kms_key_arn) (empty when Lambda's own key encrypts the variables), C(tags) and
          C(state) (the function's C(State); V(Active) after creation).
        - Empty when O(state=absent).
        - In check mode, C(function_arn) of a function that would be created comes from STS (see the notes).
      type: dict
      returned: when the region succeeded
    schedule_changed:
      description: Whether the schedule of this region was (or would be) created, changed or deleted.
      type: bool
      returned: when O(schedule) is given and the region's schedule was managed
    schedule:
      description:
        - The schedule after the task, as M(logvault.aws.scheduler_schedule) returns it (C(name), C(arn), C(group_name),
          C(schedule_expression), C(schedule_expression_timezone), C(description), C(state),
          C(flexible_time_window_minutes), C(target)); empty when it is absent.
        - In check mode, C(arn) of a schedule that would be created comes from STS, as the function's ARN does.
      type: dict
      returned: when O(schedule) is given and the region's schedule was managed
    failed:
      description: The region failed.
      type: bool
      returned: when the region failed
    msg:
      description: Why the region failed.
      type: str
      returned: when the region failed
  sample:
    us-east-1:
      changed: true
      action: created
      function:
        function_name: logvault-canary
        function_arn: arn:aws:lambda:us-east-1:111111111111:function:logvault-canary
        runtime: python3.12
        handler: logvault_canary.handler
        role: arn:aws:iam::111111111111:role/logvault-canary
        code_sha256: 3Ai7dBzNqGZXNRxkT0bgYmA4jGa0zPYhLRRPdCvcsfg=
        memory_size: 128
        timeout: 30
        description: "logvault: writes one canary event per scheduled invocation"
        environment_variables: {CANARY_LOG_GROUP: /logvault/canary}
        kms_key_arn: ""
        tags: {"logvault:managed-by": logvault.aws}
        state: Active
"""

import os
import re
import zipfile

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.logvault.aws.plugins.module_utils import scheduler
from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import LogvaultRetry
from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import parse_arn
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import PackageError
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import build
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import collect
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import sha256_base64
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions

# CreateFunction's FunctionName: a plain name is limited to 64 characters (API reference, Request Parameters).
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RUNTIME = re.compile(r"^[a-z][a-z0-9.-]{0,31}$")
HANDLER = re.compile(r"^\S{1,128}$")
# Environment's Variables: key pattern [a-zA-Z]([a-zA-Z0-9_])+ (API reference, Environment).
ENV_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
DESCRIPTION_MAX_CHARS = 256
MEMORY_MB = (128, 10240)
TIMEOUT_SECONDS = (1, 900)
ZIP_MAX_BYTES = 50 * 1024 * 1024
TAGS_MAX = 50
# Throttling, and a concurrent update of the function by someone else (our own updates wait before the next one).
RETRY_CODES = ["TooManyRequestsException", ("ResourceConflictException", "An update is in progress for resource")]

# (option, key of GetFunction's Configuration) of the configuration this module manages.
CONFIGURATION = (
    ("runtime", "Runtime"),
    ("handler", "Handler"),
    ("role", "Role"),
    ("description", "Description"),
    ("memory_size", "MemorySize"),
    ("timeout", "Timeout"),
    ("environment_variables", "Environment"),
    ("kms_key_arn", "KMSKeyArn"),
)


def _text_values(value, param):
    """A dict of text: numbers become text; anything else but text fails naming ``param``."""
    result = {}
    for key, item in (value or {}).items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValidationError(param, "the value of %s must be text, got %s %r" % (key, type(item).__name__, item))
        result[str(key)] = str(item)
    return result


def _read_zip(path):
    if not os.path.isfile(path):
        raise ValidationError("zip_file", "%s is not a file" % path)
    size = os.path.getsize(path)
    if size > ZIP_MAX_BYTES:
        raise ValidationError("zip_file", "%s has %d bytes; a zip uploaded with the API may have at most %d" % (path, size, ZIP_MAX_BYTES))
    if not zipfile.is_zipfile(path):
        raise ValidationError("zip_file", "%s is not a zip file" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as e:
        raise ValidationError("zip_file", "cannot read %s: %s" % (path, to_native(e)))


def _zip_directory(path):
    if not os.path.isdir(path):
        raise ValidationError("src", "%s is not a directory" % path)
    try:
        data = build(collect(path))
    except PackageError as e:
        raise ValidationError("src", to_native(e))
    except (IOError, OSError) as e:
        raise ValidationError("src", "cannot read a file to package: %s" % to_native(e))
    if len(data) > ZIP_MAX_BYTES:
        raise ValidationError("src", "zips to %d bytes; a zip uploaded with the API may have at most %d" % (len(data), ZIP_MAX_BYTES))
    return data


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter. Return the zip's bytes (None when absent)."""
    params = module.params
    try:
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
        elif params["region"] is not None:
            validate_region(params["region"], "region")
        if not NAME.match(params["name"]):
            raise ValidationError("name", "%r is not a function name (1 to 64 letters, digits, '-' or '_')" % params["name"])
        spec = schedule_spec(params)
        if spec is not None:
            scheduler.validate(spec, params["regions"] or [params["region"]], prefix="schedule.")
        if params["state"] == "absent":
            return None
        if params["zip_file"] and params["src"]:
            raise ValidationError("src", "and zip_file are mutually exclusive")
        for param in ("runtime", "handler", "role") if params["src"] else ("zip_file", "runtime", "handler", "role"):
            if not params[param]:
                raise ValidationError(param, "is required when state is present")
        if not RUNTIME.match(params["runtime"]):
            raise ValidationError("runtime", "%r is not a Lambda runtime identifier (for example python3.12)" % params["runtime"])
        if not HANDLER.match(params["handler"]):
            raise ValidationError("handler", "%r must be 1 to 128 characters without spaces" % params["handler"])
        parse_arn(params["role"], "role", ["iam-role"])
        if params["kms_key_arn"]:
            key = parse_arn(params["kms_key_arn"], "kms_key_arn", ["kms-key"])
            elsewhere = sorted(set(r for r in (params["regions"] or [params["region"]]) if r and r != key["region"]))
            if elsewhere:
                raise ValidationError("kms_key_arn", "%r is a key of %s; a function uses a key of its own region, not %s"
                                      % (params["kms_key_arn"], key["region"], ", ".join(elsewhere)))
        if len(params["description"]) > DESCRIPTION_MAX_CHARS:
            raise ValidationError("description", "has %d characters; at most %d" % (len(params["description"]), DESCRIPTION_MAX_CHARS))
        if not MEMORY_MB[0] <= params["memory_size"] <= MEMORY_MB[1]:
            raise ValidationError("memory_size", "%d is not between %d and %d (MB)" % ((params["memory_size"],) + MEMORY_MB))
        if not TIMEOUT_SECONDS[0] <= params["timeout"] <= TIMEOUT_SECONDS[1]:
            raise ValidationError("timeout", "%d is not between %d and %d (seconds)" % ((params["timeout"],) + TIMEOUT_SECONDS))
        for key in params["environment_variables"]:
            if not ENV_KEY.match(str(key)):
                raise ValidationError("environment_variables", "%r is not a variable name (a letter, then at least one letter, digit or '_')" % key)
        params["environment_variables"] = _text_values(params["environment_variables"], "environment_variables")
        params["tags"] = _text_values(params["tags"], "tags")
        if len(params["tags"]) > TAGS_MAX:
            raise ValidationError("tags", "has %d tags; a function may have at most %d" % (len(params["tags"]), TAGS_MAX))
        for key, value in params["tags"].items():
            if not 1 <= len(key) <= 128 or key.startswith("aws:"):
                raise ValidationError("tags", "%r is not a tag key (1 to 128 characters, not starting with 'aws:')" % key)
            if len(value) > 256:
                raise ValidationError("tags", "the value of %s has %d characters; at most 256" % (key, len(value)))
        if params["src"]:
            return _zip_directory(params["src"])
        return _read_zip(params["zip_file"])
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)


def schedule_spec(params):
    """O(schedule) in the form of module_utils/scheduler.py (a schedule whose target is the function), or None."""
    option = params["schedule"]
    if option is None:
        return None
    spec = dict((key, option[key]) for key in scheduler.SCHEDULE_OPTIONS)
    spec.update(name=option["name"] or params["name"],
                state="absent" if params["state"] == "absent" else option["state"],
                target=dict((key, option[key]) for key in scheduler.TARGET_OPTIONS))
    return spec


def unqualified(arn):
    """arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME, without a version or alias."""
    return ":".join(arn.split(":")[:7])


def view(config, tags):
    """GetFunction's Configuration (and the tags) in the module's form."""
    return {
        "function_name": config["FunctionName"],
        "function_arn": unqualified(config["FunctionArn"]),
        "runtime": config.get("Runtime"),
        "handler": config.get("Handler"),
        "role": config.get("Role"),
        "code_sha256": config.get("CodeSha256"),
        "memory_size": config.get("MemorySize"),
        "timeout": config.get("Timeout"),
        "description": config.get("Description") or "",
        # A function without variables has no Environment, or one without Variables: both are {}.
        "environment_variables": dict((config.get("Environment") or {}).get("Variables") or {}),
        # Present only when the function has a customer managed key (FunctionConfiguration, KMSKeyArn).
        "kms_key_arn": config.get("KMSKeyArn") or "",
        "tags": dict(tags),
        "state": config.get("State"),
    }


def wanted(module, sha):
    params = module.params
    result = {"function_name": params["name"], "function_arn": None, "code_sha256": sha, "tags": dict(params["tags"]), "state": "Active"}
    for option, dummy in CONFIGURATION:
        result[option] = params[option]
    if result["kms_key_arn"] is None:
        result["kms_key_arn"] = ""  # a new function without the option uses Lambda's own key
    return result


def _api_value(option, value):
    return {"Variables": value} if option == "environment_variables" else value


def _wait(client, waiter, name, what):
    """Wait with one of Lambda's waiters (GetFunction every second, at most 300 times: botocore's waiters-2.json)."""
    try:
        client.get_waiter(waiter).wait(FunctionName=name)
    except botocore.exceptions.WaiterError as e:
        config = (e.last_response or {}).get("Configuration") or {}
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason")
        raise RegionError("Function %s did not %s%s" % (name, what, " (%s)" % reason if reason else ""), error=e)


def _settle(client, name, config):
    """Wait when the function is still being created or updated (by someone else): Lambda takes one update at a time."""
    if config.get("State") == "Pending":
        _wait(client, "function_active_v2", name, "become Active")
    if config.get("LastUpdateStatus") == "InProgress":
        _wait(client, "function_updated_v2", name, "finish its update")


def _get_function(client, name):
    try:
        return client.get_function(aws_retry=True, FunctionName=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise RegionError("Failed to get function %s" % name, error=e)


def _list_tags(client, arn, name):
    try:
        return client.list_tags(aws_retry=True, Resource=arn).get("Tags") or {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise RegionError("Failed to list the tags of function %s" % name, error=e)


def _tags(client, current, name):
    """The function's tags: from GetFunction's ``Tags`` when it has them, else with ListTags.

    GetFunction returns ``Tags`` only to a caller that lambda:ListTags allows, and ``TagsError`` when it
    could not read them (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html). Without them
    ListTags is called as before: it gives the tags, or the error that names the missing permission. One call
    fewer per region and run when the function is tagged (docs/organization-scale.md).
    """
    if "Tags" in current and "TagsError" not in current:
        return current["Tags"] or {}
    return _list_tags(client, unqualified(current["Configuration"]["FunctionArn"]), name)


def _absent(module, client, name, current):
    if current is None:
        return dict(changed=False, action="absent", function={}, _before=None)
    config = current["Configuration"]
    before = view(config, _tags(client, current, name) if module._diff else {})
    if not module.check_mode:
        try:
            client.delete_function(aws_retry=True, FunctionName=name)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            raise RegionError("Failed to delete function %s" % name, error=e)
    return dict(changed=True, action="deleted", function={}, _before=before)


def _create(module, client, name, code, after):
    params = module.params
    request = {
        "FunctionName": name,
        "Runtime": params["runtime"],
        "Role": params["role"],
        "Handler": params["handler"],
        "Code": {"ZipFile": code},
        "Description": params["description"],
        "Timeout": params["timeout"],
        "MemorySize": params["memory_size"],
        "Publish": False,
    }
    if params["environment_variables"]:
        request["Environment"] = {"Variables": params["environment_variables"]}
    if params["kms_key_arn"]:
        request["KMSKeyArn"] = params["kms_key_arn"]
    if params["tags"]:
        request["Tags"] = params["tags"]
    try:
        response = client.create_function(aws_retry=True, **request)
    except is_boto3_error_code("ResourceConflictException"):
        raise RegionError("Function %s was created by someone else during the task; run it again" % name)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise RegionError("Failed to create function %s" % name, error=e)
    after["function_arn"] = unqualified(response["FunctionArn"])
    after["code_sha256"] = response.get("CodeSha256") or after["code_sha256"]
    try:
        _wait(client, "function_active_v2", name, "become Active")
    except RegionError as e:
        e.extra["changed"] = True  # the function was created
        raise


def _update(client, name, code, config, after, config_changes, code_changed, to_add, to_remove):
    """The writes, in the order Lambda takes them. A failure after a write reports the region as changed."""
    arn = after["function_arn"]
    wrote = []
    try:
        if config_changes or code_changed:
            _settle(client, name, config)
        if config_changes:
            wrote.append(client.update_function_configuration(aws_retry=True, FunctionName=name, **config_changes))
            _wait(client, "function_updated_v2", name, "finish its configuration update")
        if code_changed:
            wrote.append(client.update_function_code(aws_retry=True, FunctionName=name, ZipFile=code, Publish=False))
            after["code_sha256"] = wrote[-1].get("CodeSha256") or after["code_sha256"]
            _wait(client, "function_updated_v2", name, "finish its code update")
        if to_remove:
            wrote.append(client.untag_resource(aws_retry=True, Resource=arn, TagKeys=to_remove))
        if to_add:
            wrote.append(client.tag_resource(aws_retry=True, Resource=arn, Tags=to_add))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise RegionError("Failed to update function %s" % name, error=e, changed=bool(wrote))
    except RegionError as e:
        e.extra["changed"] = bool(wrote)
        raise


def manage_region(module, client, code, sha):
    """One region's work: a result dict (with the diff's ``_before``), or RegionError."""
    params = module.params
    name = params["name"]
    current = _get_function(client, name)
    if params["state"] == "absent":
        return _absent(module, client, name, current)

    after = wanted(module, sha)
    if current is None:
        if not module.check_mode:
            _create(module, client, name, code, after)
        return dict(changed=True, action="created", function=after, _before={})

    config = current["Configuration"]
    before = view(config, _tags(client, current, name))
    after.update(function_arn=before["function_arn"], state=before["state"])
    if params["kms_key_arn"] is None:
        after["kms_key_arn"] = before["kms_key_arn"]  # not managed
    config_changes = dict((key, _api_value(option, after[option])) for option, key in CONFIGURATION if before[option] != after[option])
    code_changed = before["code_sha256"] != sha
    to_add, to_remove = compare_aws_tags(before["tags"], after["tags"], params["purge_tags"])
    after["tags"] = dict((k, v) for k, v in before["tags"].items() if k not in to_remove)
    after["tags"].update(to_add)
    changed = bool(config_changes or code_changed or to_add or to_remove)
    if changed and not module.check_mode:
        _update(client, name, code, config, after, config_changes, code_changed, to_add, to_remove)
    return dict(changed=changed, action="updated" if changed else "unchanged", function=after, _before=before)


def caller_identity(module, regions, what):
    """(partition, account) of the credentials from one STS GetCallerIdentity, or None (with a warning naming ``what``)."""
    try:
        sts = regional_clients(module, "sts", regions[:1], retry_decorator=LogvaultRetry.jittered_backoff())[regions[0]]
        identity = sts.get_caller_identity(aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.warn("Check mode: no ARN for the %s that would be created in %s (GetCallerIdentity failed: %s)"
                    % (what, ", ".join(regions), to_native(e)))
        return None
    return identity["Arn"].split(":")[1], identity["Account"]


def predict_arns(module, per_region):
    """Check mode: the ARN of each function that would be created, from one STS GetCallerIdentity."""
    missing = [region for region, result in per_region.items() if result.get("function") and not result["function"]["function_arn"]]
    if not missing:
        return
    identity = caller_identity(module, missing, "function")
    if identity is None:
        return
    for region in missing:
        per_region[region]["function"]["function_arn"] = "arn:%s:lambda:%s:%s:function:%s" % (identity[0], region, identity[1], module.params["name"])


def manage_schedules(module, spec, per_region, regions):
    """The schedule of each region in ``regions`` (whose function is done); {region: outcome or RegionError}.

    With O(state=present) its target is the region's function; with O(state=absent) it is deleted."""
    if not regions:
        return {}
    try:
        clients = scheduler.retrying(regional_clients(module, "scheduler", regions))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        return dict((region, RegionError("Failed to connect to EventBridge Scheduler", error=e)) for region in regions)

    def work(client, region):
        function = (per_region.get(region) or {}).get("function") or {}
        return scheduler.manage(spec, module.check_mode, client, function.get("function_arn"))

    outcomes = run_regions(clients, work)
    unknown = [region for region, outcome in outcomes.items()
               if not isinstance(outcome, RegionError) and outcome["after"] and not outcome["after"]["arn"]]
    if unknown:
        identity = caller_identity(module, unknown, "schedule")
        for region in unknown if identity else []:
            outcomes[region]["after"]["arn"] = scheduler.predicted_arn(spec, identity[0], identity[1], region)
    return outcomes


def _public(function):
    return dict((k, v) for k, v in function.items() if k != "state")


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        regions=dict(type="list", elements="str"),
        zip_file=dict(type="path"),
        src=dict(type="path"),
        runtime=dict(type="str"),
        handler=dict(type="str"),
        role=dict(type="str"),
        description=dict(type="str", default=""),
        memory_size=dict(type="int", default=128),
        timeout=dict(type="int", default=3),
        environment_variables=dict(type="dict", default={}),
        kms_key_arn=dict(type="str", no_log=False),
        tags=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
        schedule=dict(type="dict", options=dict(
            name=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            role_arn=dict(type="str"),
            input=dict(type="json"),
            maximum_retry_attempts=dict(type="int", default=185),
            maximum_event_age_in_seconds=dict(type="int", default=86400),
            **scheduler.SCHEDULE_OPTIONS
        )),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    code = validate_params(module)
    spec = schedule_spec(module.params)
    # What Lambda reports as CodeSha256: the base64 of the SHA-256 of the zip.
    sha = sha256_base64(code) if code is not None else None
    regions = module.params["regions"] or [module.region]
    if regions == [None]:
        module.fail_json(msg="Give regions, or region (or AWS_REGION)", parameter="regions")
    try:
        clients = regional_clients(module, "lambda", regions, retry_decorator=propagation_retry("lambda", RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to Lambda")

    absent = module.params["state"] == "absent"
    schedules = {}
    if spec is not None and absent:
        # The schedules first, so that nothing invokes a function that is being deleted; a region whose schedule
        # could not be deleted keeps its function.
        schedules = manage_schedules(module, spec, {}, regions)
        clients = dict((region, client) for region, client in clients.items() if not isinstance(schedules[region], RegionError))
    outcomes = run_regions(clients, lambda client, region: manage_region(module, client, code, sha)) if clients else {}
    per_region = {}
    befores = {}
    for region in regions:
        outcome = outcomes.get(region)
        if outcome is None:
            continue
        if isinstance(outcome, RegionError):
            per_region[region] = dict(changed=bool(outcome.extra.get("changed")), failed=True, msg=outcome.describe())
            continue
        befores[region] = outcome.pop("_before")
        per_region[region] = outcome
    if module.check_mode:
        predict_arns(module, per_region)
    if spec is not None and not absent:
        schedules = manage_schedules(module, spec, per_region, [region for region in regions if region in befores])

    diffs = []
    for region in regions:
        result = per_region.get(region)
        if result is not None and region in befores and result["changed"]:
            diffs.append(dict(before=_public(befores[region]), after=_public(result["function"]),
                              before_header="%s (before)" % region, after_header="%s (after)" % region))
        outcome = schedules.get(region)
        if outcome is None:
            continue
        if isinstance(outcome, RegionError):
            # absent: the function was not touched; present: the function is done, its schedule failed.
            per_region[region] = dict(changed=bool(result and result["changed"]), failed=True, msg=outcome.describe())
            outcomes[region] = outcome
            continue
        if result is None:
            continue
        result.update(schedule_changed=outcome["changed"], schedule=scheduler.public(outcome["after"]),
                      changed=result["changed"] or outcome["changed"])
        if outcome["changed"]:
            diffs.append(dict(before=scheduler.public(outcome["before"]), after=scheduler.public(outcome["after"]),
                              before_header="%s schedule (before)" % region, after_header="%s schedule (after)" % region))
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region)
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(dict((region, outcomes.get(region, schedules.get(region))) for region in regions),
                                     "Lambda function %s" % module.params["name"])
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
