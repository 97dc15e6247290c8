import LunaTraceCommands

LunaTraceCommand.main()
