import LunaConformCommands

LunaConformCommand.main()
