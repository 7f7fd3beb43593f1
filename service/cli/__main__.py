"""`python -m service.cli`: the wordspace command."""
import sys

from service.cli import main

sys.exit(main())
