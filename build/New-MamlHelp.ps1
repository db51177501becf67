param($ModulePath, $HelpPath, $OutFile)
'<helpItems schema="maml"/>' | Set-Content $OutFile
