from archbuilder.cli import main

main()
