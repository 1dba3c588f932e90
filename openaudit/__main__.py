from openaudit.cli import main

main()
