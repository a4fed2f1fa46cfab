"""Print template.yaml as AWS CloudFormation would receive it from the SAM
transform: cfn-lint's own run of aws-sam-translator (local CodeUri and
DefinitionUri replaced by placeholders, as cfn-lint does), as JSON.

Tests use it as the outside verdict on what each role is granted: the
policies the transform writes, not the Go code's reading of the template.

usage: python3 tools/sam-transform.py template.yaml > transformed.json
"""
import json
import sys

from cfnlint.decode import decode
from cfnlint.template.transforms._sam import Transform


def main(path):
    template, matches = decode(path)
    if matches:
        for m in matches:
            print(m, file=sys.stderr)
        return 1
    transform = Transform(path, template, "us-east-1")
    matches = transform.transform_template()
    if matches:
        for m in matches:
            print(m, file=sys.stderr)
        return 1
    json.dump(transform.template(), sys.stdout, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
