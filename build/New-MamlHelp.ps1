#requires -Version 5.1
<#
.SYNOPSIS
    Compiles the platyPS-style markdown in module/help into the MAML help file of the module.
.DESCRIPTION
    Imports the staged module, reads one <Verb-Noun>.md per exported cmdlet and writes
    en-US/SocketCmdlets.dll-Help.xml, the file Get-Help reads.

    The prose (synopsis, description, examples, parameter descriptions, inputs, outputs, notes and related links)
    comes from the markdown. Everything the code knows (syntax per parameter set, parameter types, required,
    position, pipeline input, aliases, wildcards, enum values, visible default values) comes from the cmdlets
    themselves through Get-Command, so the help cannot contradict the code. The SYNTAX section and the yaml blocks
    of the markdown are only for people reading the markdown; a warning says when they are out of date, and
    -UpdateMarkdown rewrites them. One exception: where the code shows no default value, or only the zero of a
    number (which for Set-SocketOption -LingerSec means "not given, unchanged", not 0), the "Default value" of the
    markdown's yaml block is used.

    The script fails (throws, exit code 1 under pwsh -File) when an exported cmdlet has no markdown file, no
    synopsis, no description, fewer than two examples, an example without code, a parameter without a description,
    or when the markdown describes a parameter or a cmdlet the module does not have.

    Markdown layout (platyPS): optional front matter; "# Verb-Noun"; "## SYNOPSIS"; "## SYNTAX" (ignored);
    "## DESCRIPTION"; "## EXAMPLES" with "### Example 1: title", a ```powershell block and remarks;
    "## PARAMETERS" with "### -Name", a description and an optional ```yaml block; "## INPUTS" and "## OUTPUTS"
    with "### TypeName" and a description; "## NOTES"; "## RELATED LINKS" with [text](uri) lines.
.PARAMETER ModulePath
    The staged module folder (or its .psd1) to import.
.PARAMETER HelpPath
    The folder of the markdown files (module/help).
.PARAMETER OutFile
    The MAML file to write, normally <staged module>/en-US/SocketCmdlets.dll-Help.xml.
.PARAMETER UpdateMarkdown
    Also rewrites the markdown from the code: the SYNTAX section and the yaml block of every parameter are
    regenerated, a section with a placeholder is added for each parameter that has none (and a skeleton file for
    each cmdlet that has none), and sections of parameters the cmdlet no longer has are removed. The prose is kept.
    Placeholders still fail the check, so the help must then be written before the build passes.
.EXAMPLE
    dotnet pwsh -NoProfile -File build/New-MamlHelp.ps1 -ModulePath out/SocketCmdlets -HelpPath module/help -OutFile out/SocketCmdlets/en-US/SocketCmdlets.dll-Help.xml
.EXAMPLE
    dotnet pwsh -NoProfile -File build/New-MamlHelp.ps1 -ModulePath out/SocketCmdlets -HelpPath module/help -OutFile /tmp/help.xml -UpdateMarkdown
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $ModulePath,

    [Parameter(Mandatory = $true)]
    [string] $HelpPath,

    [Parameter(Mandatory = $true)]
    [string] $OutFile,

    [switch] $UpdateMarkdown
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$NsMSHelp = 'http://msdn.microsoft.com/mshelp'
$CommonParameters = [System.Collections.Generic.HashSet[string]]::new(
    [string[]]([System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters),
    [System.StringComparer]::OrdinalIgnoreCase)
$CommonParametersText = 'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
# platyPS writes these placeholders into new files; help that still holds one is not written yet.
$Placeholder = '\{\{\s*(Fill|Add|Insert)\b[^}]*\}\}'

#region Markdown

function Split-Markdown {
    <#
    .SYNOPSIS
        Splits a markdown file into front matter, title, "##" sections and their "###" subsections, ignoring
        headings inside fenced code blocks.
    #>
    param([string] $Path)

    $lines = [System.IO.File]::ReadAllLines($Path)
    $doc = [pscustomobject]@{
        Path        = $Path
        FrontMatter = [ordered]@{}
        Title       = $null
        Sections    = [System.Collections.Generic.List[object]]::new()
    }
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        for ($i = 1; $i -lt $lines.Count -and $lines[$i].Trim() -ne '---'; $i++) {
            if ($lines[$i] -match '^\s*([^:#]+?)\s*:\s*(.*?)\s*$') { $doc.FrontMatter[$Matches[1]] = $Matches[2] }
        }
        $i++
    }

    $section = $null
    $sub = $null
    $fence = $null
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($null -eq $fence -and $line -match '^\s{0,3}(```+|~~~+)') {
            $fence = $Matches[1]
        } elseif ($null -ne $fence -and $line -match '^\s{0,3}(```+|~~~+)\s*$' -and $Matches[1].StartsWith($fence)) {
            $fence = $null
        } elseif ($null -eq $fence) {
            if ($line -match '^#\s+(.+?)\s*#*\s*$' -and $null -eq $doc.Title -and $null -eq $section) {
                $doc.Title = $Matches[1]
                continue
            }
            if ($line -match '^##\s+(.+?)\s*#*\s*$') {
                $section = [pscustomobject]@{ Name = $Matches[1].ToUpperInvariant(); Lines = [System.Collections.Generic.List[string]]::new(); Subsections = [System.Collections.Generic.List[object]]::new() }
                $doc.Sections.Add($section)
                $sub = $null
                continue
            }
            if ($line -match '^###\s+(.+?)\s*#*\s*$' -and $null -ne $section) {
                $sub = [pscustomobject]@{ Title = $Matches[1]; Lines = [System.Collections.Generic.List[string]]::new() }
                $section.Subsections.Add($sub)
                continue
            }
        }
        if ($null -ne $sub) { $sub.Lines.Add($line) }
        elseif ($null -ne $section) { $section.Lines.Add($line) }
    }
    return $doc
}

function Get-Section {
    param($Doc, [string] $Name)
    foreach ($s in $Doc.Sections) { if ($s.Name -eq $Name) { return $s } }
    return $null
}

function ConvertFrom-MarkdownInline {
    <# Markdown inline markup to the plain text Get-Help shows: code spans, emphasis, links and escapes. #>
    param([string] $Text)
    # Code spans of any backtick length; the content keeps PowerShell escapes such as `n.
    $Text = [regex]::Replace($Text, '(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)', {
            param($m)
            $content = $m.Groups[2].Value
            if ($content.Length -gt 2 -and $content.StartsWith(' ') -and $content.EndsWith(' ')) { $content = $content.Substring(1, $content.Length - 2) }
            # Protect the content from the rules below.
            '<<CODE' + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($content)) + 'CODE>>'
        })
    $Text = [regex]::Replace($Text, '!?\[([^\]]+)\]\(([^)]*)\)', '$1')
    $Text = [regex]::Replace($Text, '(\*\*|__)(?=\S)(.+?)(?<=\S)\1', '$2')
    $Text = [regex]::Replace($Text, '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1')
    $Text = [regex]::Replace($Text, '<<CODE([A-Za-z0-9+/=]*)CODE>>', { param($m) [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($m.Groups[1].Value)) })
    return $Text
}

function ConvertTo-Block {
    <#
    .SYNOPSIS
        Turns markdown lines into blocks: Para (one paragraph or list item, as plain text) and Code (a fenced block,
        with its language and its lines as they are).
    #>
    param([string[]] $Lines)

    $blocks = [System.Collections.Generic.List[object]]::new()
    $para = [System.Collections.Generic.List[string]]::new()
    $flush = {
        if ($para.Count -gt 0) {
            $text = ConvertFrom-MarkdownInline (($para | ForEach-Object { $_.Trim() }) -join ' ')
            $blocks.Add([pscustomobject]@{ Kind = 'Para'; Language = $null; Text = $text })
            $para.Clear()
        }
    }
    $fence = $null
    $language = $null
    $code = $null
    foreach ($line in $Lines) {
        if ($null -ne $fence) {
            if ($line -match '^\s{0,3}(```+|~~~+)\s*$' -and $Matches[1].StartsWith($fence)) {
                $blocks.Add([pscustomobject]@{ Kind = 'Code'; Language = $language; Text = ($code -join "`n") })
                $fence = $null
            } else {
                $code.Add($line)
            }
            continue
        }
        if ($line -match '^\s{0,3}(```+|~~~+)\s*([\w+-]*)') {
            & $flush
            $fence = $Matches[1]
            $language = $Matches[2].ToLowerInvariant()
            $code = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($line.Trim().Length -eq 0) {
            & $flush
            continue
        }
        # Each list item is a paragraph of its own, so Get-Help keeps the items apart.
        if ($line -match '^\s{0,3}([-*+]|\d+[.)])\s+') {
            & $flush
        }
        $para.Add($line)
    }
    & $flush
    if ($null -ne $fence) { $blocks.Add([pscustomobject]@{ Kind = 'Code'; Language = $language; Text = ($code -join "`n") }) }
    return , $blocks.ToArray()
}

function Get-Paragraph {
    <# The text of a section as paragraphs; fenced code (other than yaml) is kept as a preformatted paragraph. #>
    param([string[]] $Lines)
    $result = [System.Collections.Generic.List[string]]::new()
    foreach ($block in (ConvertTo-Block $Lines)) {
        if ($block.Kind -eq 'Para') { $result.Add($block.Text) }
        elseif ($block.Language -ne 'yaml') { $result.Add($block.Text) }
    }
    return , $result.ToArray()
}

function Test-Prose {
    <# True when the paragraphs say something: not empty and not a platyPS placeholder. #>
    param([string[]] $Paragraphs)
    $text = ($Paragraphs -join ' ').Trim()
    return $text.Length -gt 0 -and $text -notmatch $Placeholder
}

function Read-CommandHelp {
    <#
    .SYNOPSIS
        Reads one markdown file into the parts the MAML needs. Problems are added to $Problems.
    #>
    param($Doc, [System.Collections.Generic.List[string]] $Problems)

    $file = Split-Path -Leaf $Doc.Path
    $help = [ordered]@{
        Synopsis     = @()
        Description  = @()
        Examples     = [System.Collections.Generic.List[object]]::new()
        Parameters   = [ordered]@{}
        Inputs       = [System.Collections.Generic.List[object]]::new()
        Outputs      = [System.Collections.Generic.List[object]]::new()
        Notes        = @()
        Links        = [System.Collections.Generic.List[object]]::new()
    }

    $s = Get-Section $Doc 'SYNOPSIS'
    if ($s) { $help.Synopsis = Get-Paragraph $s.Lines }
    if (-not (Test-Prose $help.Synopsis)) { $Problems.Add("${file}: the SYNOPSIS is missing or empty.") }

    $s = Get-Section $Doc 'DESCRIPTION'
    if ($s) { $help.Description = Get-Paragraph $s.Lines }
    if (-not (Test-Prose $help.Description)) { $Problems.Add("${file}: the DESCRIPTION is missing or empty.") }

    $s = Get-Section $Doc 'EXAMPLES'
    if ($s) {
        foreach ($sub in $s.Subsections) {
            $code = [System.Collections.Generic.List[string]]::new()
            $remarks = [System.Collections.Generic.List[string]]::new()
            foreach ($block in (ConvertTo-Block $sub.Lines)) {
                if ($block.Kind -eq 'Code' -and $block.Language -in 'powershell', 'pwsh', 'ps1', 'ps', 'posh', '') {
                    $code.Add($block.Text)
                } else {
                    $remarks.Add($block.Text)
                }
            }
            $title = $sub.Title
            if ($code.Count -eq 0 -or ($code -join '').Trim().Length -eq 0) { $Problems.Add("${file}: '$title' has no ```powershell code block.") }
            elseif (($title + ($code -join '')) -match $Placeholder) { $Problems.Add("${file}: '$title' still holds a placeholder.") }
            $help.Examples.Add([pscustomobject]@{ Title = $title; Code = ($code -join "`n`n"); Remarks = $remarks.ToArray() })
        }
    }
    if ($help.Examples.Count -lt 2) { $Problems.Add("${file}: $($help.Examples.Count) example(s); every cmdlet needs at least two.") }

    $s = Get-Section $Doc 'PARAMETERS'
    if ($s) {
        foreach ($sub in $s.Subsections) {
            if ($sub.Title -notmatch '^-(\w+)$') { continue }
            $name = $Matches[1]
            $default = $null
            foreach ($block in (ConvertTo-Block $sub.Lines)) {
                if ($block.Kind -eq 'Code' -and $block.Language -eq 'yaml' -and $block.Text -match '(?m)^Default value:\s*(.*?)\s*$') {
                    $default = $Matches[1]
                }
            }
            $help.Parameters[$name] = [pscustomobject]@{ Name = $name; Description = (Get-Paragraph $sub.Lines); MarkdownDefault = $default; Lines = $sub.Lines }
        }
    }

    foreach ($pair in @(@('INPUTS', $help.Inputs), @('OUTPUTS', $help.Outputs))) {
        $s = Get-Section $Doc $pair[0]
        if (-not $s) { continue }
        foreach ($sub in $s.Subsections) {
            $pair[1].Add([pscustomobject]@{ Type = (ConvertFrom-MarkdownInline $sub.Title); Description = (Get-Paragraph $sub.Lines) })
        }
    }

    $s = Get-Section $Doc 'NOTES'
    if ($s) { $help.Notes = Get-Paragraph $s.Lines }

    $s = Get-Section $Doc 'RELATED LINKS'
    if ($s) {
        foreach ($line in $s.Lines) {
            if ($line -match '^\s*[-*]?\s*\[([^\]]+)\]\(([^)]*)\)') {
                $uri = $Matches[2]
                # Links to the other markdown files are shown by name only, as platyPS does.
                if ($uri -notmatch '^[a-z]+://') { $uri = '' }
                $help.Links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $uri })
            } elseif ($line.Trim().Length -gt 0) {
                $help.Links.Add([pscustomobject]@{ Text = (ConvertFrom-MarkdownInline $line.Trim(' ', '-', '*')); Uri = '' })
            }
        }
    }
    if ($Doc.FrontMatter.Contains('online version') -and $Doc.FrontMatter['online version']) {
        $help.Links.Insert(0, [pscustomobject]@{ Text = 'Online Version:'; Uri = $Doc.FrontMatter['online version'] })
    }
    return [pscustomobject]$help
}

#endregion

#region Metadata from the code

function Get-TypeDisplayName {
    <# A short type name as help shows it: Int32, String[], NetSocket. #>
    param([type] $Type)
    if ($Type.IsArray) { return (Get-TypeDisplayName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return (Get-TypeDisplayName $Type.GetGenericArguments()[0]) }
    return $Type.Name
}

function Format-DefaultValue {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Text.Encoding]) {
        if ($Value.CodePage -eq 65001) { return 'utf8' }
        return $Value.WebName
    }
    if ($Value -is [string]) {
        # Control characters are shown as PowerShell escapes: "`n".
        $escaped = $Value.Replace('`', '``').Replace("`r", '`r').Replace("`n", '`n').Replace("`t", '`t').Replace("`0", '`0')
        if ($escaped -ne $Value) { return '"' + $escaped + '"' }
        return $Value
    }
    return [System.Convert]::ToString($Value, [System.Globalization.CultureInfo]::InvariantCulture)
}

function Get-CodeDefault {
    <#
    .SYNOPSIS
        The default value the code shows: the property value of a fresh cmdlet object, where it is a real value.
        Zero enum values, nulls and numbers outside the parameter's own ValidateRange are not defaults a user can
        see, so they yield nothing; neither does a parameter that is mandatory wherever it appears.
    #>
    param([System.Management.Automation.CommandInfo] $Command, [System.Management.Automation.ParameterMetadata] $Parameter, $Instance)

    if ($Parameter.SwitchParameter) { return 'False' }
    if (@($Parameter.ParameterSets.Values | Where-Object { -not $_.IsMandatory }).Count -eq 0) { return $null }
    if ($null -eq $Instance) { return $null }
    $property = $Command.ImplementingType.GetProperty($Parameter.Name)
    if ($null -eq $property) { return $null }
    $value = $property.GetValue($Instance)
    if ($null -eq $value) { return $null }
    if ($value -is [enum]) {
        if ([Convert]::ToInt64($value) -eq 0) { return $null }
        return $value.ToString()
    }
    if ($value -is [ValueType] -and $value -isnot [bool]) {
        foreach ($range in $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }) {
            if ($null -ne $range.MinRange -and [double]$value -lt [double]$range.MinRange) { return $null }
        }
    }
    return Format-DefaultValue $value
}

function Get-ParameterInfo {
    <#
    .SYNOPSIS
        Everything the code says about the parameters of a cmdlet, in declaration order, with the settings of each
        parameter set.
    #>
    param([System.Management.Automation.CmdletInfo] $Command)

    $instance = $null
    try { $instance = [Activator]::CreateInstance($Command.ImplementingType) } catch { $instance = $null }

    $setNames = @($Command.ParameterSets | ForEach-Object Name)
    $result = [System.Collections.Generic.List[object]]::new()
    foreach ($p in $Command.Parameters.Values) {
        if ($CommonParameters.Contains($p.Name)) { continue }
        $type = $p.ParameterType
        $elementType = if ($type.IsArray) { $type.GetElementType() } else { $type }
        $values = @()
        if ($elementType.IsEnum) { $values = [Enum]::GetNames($elementType) }
        foreach ($set in $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }) { $values = @($set.ValidValues) }

        $sets = [ordered]@{}
        foreach ($entry in $p.ParameterSets.GetEnumerator()) {
            $names = if ($entry.Key -eq '__AllParameterSets') { $setNames } else { @($entry.Key) }
            foreach ($n in $names) {
                $m = $entry.Value
                $sets[$n] = [pscustomobject]@{
                    Required       = $m.IsMandatory
                    Position       = if ($m.Position -lt 0) { 'named' } else { [string]$m.Position }
                    ByValue        = $m.ValueFromPipeline
                    ByPropertyName = $m.ValueFromPipelineByPropertyName
                }
            }
        }
        # In the order of the cmdlet's parameter sets.
        $ordered = [ordered]@{}
        foreach ($n in $setNames) { if ($sets.Contains($n)) { $ordered[$n] = $sets[$n] } }

        $result.Add([pscustomobject]@{
                Name        = $p.Name
                Type        = $type
                TypeName    = Get-TypeDisplayName $type
                IsSwitch    = $p.SwitchParameter
                IsArray     = $type.IsArray
                Aliases     = @($p.Aliases)
                Globbing    = [bool]@($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count
                Values      = $values
                Sets        = $ordered
                InAllSets   = $ordered.Count -eq $setNames.Count
                CodeDefault = Get-CodeDefault $Command $p $instance
                Default     = $null
                Description = @()
            })
    }
    return , $result.ToArray()
}

function Get-PipelineText {
    param([bool] $ByValue, [bool] $ByPropertyName)
    $kinds = @()
    if ($ByValue) { $kinds += 'ByValue' }
    if ($ByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds.Count -eq 0) { return 'False' }
    return "True ($($kinds -join ', '))"
}

function Get-Summary {
    <# One value of a setting across the parameter sets, or "value (Set), value (Set)" where the sets differ. #>
    param($Parameter, [scriptblock] $Selector)
    $bySet = [ordered]@{}
    foreach ($entry in $Parameter.Sets.GetEnumerator()) { $bySet[$entry.Key] = [string](& $Selector $entry.Value) }
    $distinct = @($bySet.Values | Select-Object -Unique)
    if ($distinct.Count -le 1) { return $distinct[0] }
    return (($bySet.GetEnumerator() | ForEach-Object { "$($_.Value) ($($_.Key))" }) -join ', ')
}

function Get-SyntaxParameter {
    <# The parameters of one set, as Get-Command -Syntax orders them: positional first, then the others. #>
    param([System.Management.Automation.CommandParameterSetInfo] $Set, [object[]] $Parameters)
    $inSet = foreach ($p in $Parameters) { if ($p.Sets.Contains($Set.Name)) { $p } }
    $positional = @($inSet | Where-Object { $_.Sets[$Set.Name].Position -ne 'named' } | Sort-Object { [int]$_.Sets[$Set.Name].Position })
    $required = @($inSet | Where-Object { $_.Sets[$Set.Name].Position -eq 'named' -and $_.Sets[$Set.Name].Required })
    $optional = @($inSet | Where-Object { $_.Sets[$Set.Name].Position -eq 'named' -and -not $_.Sets[$Set.Name].Required })
    return , @($positional + $required + $optional)
}

function Format-SyntaxLine {
    <# One line of the SYNTAX section of the markdown, as platyPS writes it. #>
    param([string] $CommandName, [System.Management.Automation.CommandParameterSetInfo] $Set, [object[]] $Parameters)
    $parts = @($CommandName)
    foreach ($p in (Get-SyntaxParameter $Set $Parameters)) {
        $s = $p.Sets[$Set.Name]
        $name = if ($s.Position -ne 'named') { "[-$($p.Name)]" } else { "-$($p.Name)" }
        $text = if ($p.IsSwitch) { "-$($p.Name)" } else { "$name <$($p.TypeName)>" }
        $parts += if ($s.Required) { $text } else { "[$text]" }
    }
    $parts += '[<CommonParameters>]'
    return $parts -join ' '
}

#endregion

#region Markdown update (-UpdateMarkdown)

function Get-MarkdownSyntax {
    param([System.Management.Automation.CmdletInfo] $Command, [object[]] $Parameters)
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('')
    $sets = @($Command.ParameterSets)
    foreach ($set in ($sets | Sort-Object { -not $_.IsDefault })) {
        if ($sets.Count -gt 1) {
            $lines.Add("### $($set.Name)$(if ($set.IsDefault) { ' (Default)' })")
        }
        $lines.Add('```')
        $lines.Add((Format-SyntaxLine $Command.Name $set $Parameters))
        $lines.Add('```')
        $lines.Add('')
    }
    return , $lines.ToArray()
}

function Get-MarkdownYaml {
    param($Parameter)
    $p = $Parameter
    $setText = if ($p.InAllSets) { '(All)' } else { $p.Sets.Keys -join ', ' }
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('```yaml')
    $lines.Add("Type: $($p.TypeName)")
    $lines.Add("Parameter Sets: $setText")
    $lines.Add("Aliases:$(if ($p.Aliases.Count) { ' ' + ($p.Aliases -join ', ') })")
    if ($p.Values.Count) { $lines.Add("Accepted values: $($p.Values -join ', ')") }
    $lines.Add('')
    $lines.Add("Required: $(Get-Summary $p { if ($args[0].Required) { 'True' } else { 'False' } })")
    $lines.Add("Position: $(Get-Summary $p { if ($args[0].Position -eq 'named') { 'Named' } else { $args[0].Position } })")
    $lines.Add("Default value: $(if ($p.Default) { $p.Default } else { 'None' })")
    $lines.Add("Accept pipeline input: $(Get-Summary $p { Get-PipelineText $args[0].ByValue $args[0].ByPropertyName })")
    $lines.Add("Accept wildcard characters: $(if ($p.Globbing) { 'True' } else { 'False' })")
    $lines.Add('```')
    return , $lines.ToArray()
}

function Get-MarkdownParameters {
    <# The PARAMETERS section: the prose from the markdown, the yaml from the code. #>
    param([object[]] $Parameters, $Existing)
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('')
    foreach ($p in $Parameters) {
        $lines.Add("### -$($p.Name)")
        $prose = @()
        if ($Existing.Contains($p.Name)) {
            # The description lines as written, without the yaml block and surrounding blank lines.
            $inYaml = $false
            $prose = foreach ($line in $Existing[$p.Name].Lines) {
                if ($line -match '^\s{0,3}```\s*yaml') { $inYaml = $true; continue }
                if ($inYaml) { if ($line -match '^\s{0,3}```\s*$') { $inYaml = $false }; continue }
                $line
            }
            $prose = @(($prose -join "`n").Trim("`n", ' ') -split "`n")
        }
        if (-not (Test-Prose $prose)) { $prose = @("{{ Fill $($p.Name) Description }}") }
        $lines.AddRange([string[]]$prose)
        $lines.Add('')
        $lines.AddRange((Get-MarkdownYaml $p))
        $lines.Add('')
    }
    $lines.Add('### CommonParameters')
    $lines.Add($CommonParametersText)
    $lines.Add('')
    return , $lines.ToArray()
}

function New-MarkdownSkeleton {
    param([System.Management.Automation.CmdletInfo] $Command, [string] $ModuleName)
    return @(
        '---'
        "external help file: $ModuleName.dll-Help.xml"
        "Module Name: $ModuleName"
        'online version:'
        'schema: 2.0.0'
        '---'
        ''
        "# $($Command.Name)"
        ''
        '## SYNOPSIS'
        '{{ Fill in the Synopsis }}'
        ''
        '## SYNTAX'
        ''
        '## DESCRIPTION'
        '{{ Fill in the Description }}'
        ''
        '## EXAMPLES'
        ''
        '### Example 1: {{ Add example title }}'
        '```powershell'
        '{{ Add example code here }}'
        '```'
        ''
        '{{ Add example description here }}'
        ''
        '## PARAMETERS'
        ''
        '## INPUTS'
        ''
        '## OUTPUTS'
        ''
        '## NOTES'
        ''
        '## RELATED LINKS'
        ''
    ) -join "`n"
}

function Update-MarkdownFile {
    <# Replaces the SYNTAX and PARAMETERS sections of a markdown file; the rest stays as written. #>
    param([string] $Path, [string[]] $Syntax, [string[]] $ParameterLines)
    $lines = [System.IO.File]::ReadAllLines($Path)
    $out = [System.Collections.Generic.List[string]]::new()
    $skip = $false
    $fence = $false
    $seen = @{}
    foreach ($line in $lines) {
        if ($line -match '^\s{0,3}(```|~~~)') { $fence = -not $fence }
        if (-not $fence -and $line -match '^##\s+(.+?)\s*$') {
            $name = $Matches[1].ToUpperInvariant()
            $skip = $false
            if ($name -eq 'SYNTAX' -or $name -eq 'PARAMETERS') {
                $out.Add($line)
                $out.AddRange([string[]]$(if ($name -eq 'SYNTAX') { $Syntax } else { $ParameterLines }))
                $seen[$name] = $true
                $skip = $true
                continue
            }
        }
        if ($line -match '^\s{0,3}(```|~~~)' -and $skip) { continue }
        if (-not $skip) { $out.Add($line) }
    }
    foreach ($name in 'SYNTAX', 'PARAMETERS') {
        if (-not $seen[$name]) { throw "$Path has no '## $name' section to update." }
    }
    $text = ($out -join "`n").TrimEnd() + "`n"
    [System.IO.File]::WriteAllText($Path, $text, [System.Text.UTF8Encoding]::new($false))
}

#endregion

#region MAML

function Write-Para {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)
    $any = $false
    foreach ($p in $Paragraphs) {
        if ($null -eq $p) { continue }
        $Writer.WriteElementString('para', $NsMaml, $p)
        $any = $true
    }
    if (-not $any) { $Writer.WriteElementString('para', $NsMaml, '') }
}

function Write-Description {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)
    $Writer.WriteStartElement('description', $NsMaml)
    Write-Para $Writer $Paragraphs
    $Writer.WriteEndElement()
}

function Write-Parameter {
    <# One command:parameter, as in a syntax item (for one set) or in the parameters list (all sets). #>
    param([System.Xml.XmlWriter] $Writer, $Parameter, [string] $SetName)
    $p = $Parameter
    if ($SetName) {
        $s = $p.Sets[$SetName]
        $required = $s.Required
        $position = $s.Position
        $pipeline = Get-PipelineText $s.ByValue $s.ByPropertyName
    } else {
        $all = @($p.Sets.Values)
        $required = @($all | Where-Object { -not $_.Required }).Count -eq 0
        $positions = @($all | ForEach-Object Position | Select-Object -Unique)
        $position = if ($positions.Count -eq 1) { $positions[0] } else { @($positions | Where-Object { $_ -ne 'named' })[0] }
        $pipeline = Get-PipelineText ([bool]@($all | Where-Object ByValue).Count) ([bool]@($all | Where-Object ByPropertyName).Count)
    }
    $Writer.WriteStartElement('parameter', $NsCommand)
    $Writer.WriteAttributeString('required', $(if ($required) { 'true' } else { 'false' }))
    $Writer.WriteAttributeString('variableLength', $(if ($p.IsArray) { 'true' } else { 'false' }))
    $Writer.WriteAttributeString('globbing', $(if ($p.Globbing) { 'true' } else { 'false' }))
    $Writer.WriteAttributeString('pipelineInput', $pipeline)
    $Writer.WriteAttributeString('position', $position)
    $Writer.WriteAttributeString('aliases', $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('name', $NsMaml, $p.Name)
    Write-Description $Writer $p.Description
    if ($p.Values.Count) {
        $Writer.WriteStartElement('parameterValueGroup', $NsCommand)
        foreach ($v in $p.Values) {
            $Writer.WriteStartElement('parameterValue', $NsCommand)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('command', 'variableLength', $NsCommand, 'false')
            $Writer.WriteString($v)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    # A switch takes no value: in a syntax item it has none, in the parameter list it shows its type.
    if (-not $p.IsSwitch -or -not $SetName) {
        $Writer.WriteStartElement('parameterValue', $NsCommand)
        $Writer.WriteAttributeString('required', $(if ($p.IsSwitch) { 'false' } else { 'true' }))
        $Writer.WriteAttributeString('variableLength', $(if ($p.IsArray) { 'true' } else { 'false' }))
        $Writer.WriteString($p.TypeName)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('type', $NsDev)
    $Writer.WriteElementString('name', $NsMaml, $p.Type.FullName)
    $Writer.WriteElementString('uri', $NsMaml, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('defaultValue', $NsDev, $(if ($p.Default) { $p.Default } else { 'None' }))
    $Writer.WriteEndElement()
}

function Write-TypeList {
    param([System.Xml.XmlWriter] $Writer, [string] $ListName, [string] $ItemName, [object[]] $Items)
    $Writer.WriteStartElement($ListName, $NsCommand)
    foreach ($item in $Items) {
        $Writer.WriteStartElement($ItemName, $NsCommand)
        $Writer.WriteStartElement('type', $NsDev)
        $Writer.WriteElementString('name', $NsMaml, $item.Type)
        $Writer.WriteEndElement()
        Write-Description $Writer $item.Description
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-Command {
    param([System.Xml.XmlWriter] $Writer, [System.Management.Automation.CmdletInfo] $Command, $Help, [object[]] $Parameters)

    $Writer.WriteStartElement('command', 'command', $NsCommand)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $NsMaml)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $NsCommand)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $NsDev)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, $NsMSHelp)

    $Writer.WriteStartElement('details', $NsCommand)
    $Writer.WriteElementString('name', $NsCommand, $Command.Name)
    $Writer.WriteElementString('verb', $NsCommand, $Command.Verb)
    $Writer.WriteElementString('noun', $NsCommand, $Command.Noun)
    Write-Description $Writer $Help.Synopsis
    $Writer.WriteEndElement()

    Write-Description $Writer $Help.Description

    $Writer.WriteStartElement('syntax', $NsCommand)
    foreach ($set in (@($Command.ParameterSets) | Sort-Object { -not $_.IsDefault })) {
        $Writer.WriteStartElement('syntaxItem', $NsCommand)
        $Writer.WriteElementString('name', $NsMaml, $Command.Name)
        foreach ($p in (Get-SyntaxParameter $set $Parameters)) { Write-Parameter $Writer $p $set.Name }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('parameters', $NsCommand)
    foreach ($p in $Parameters) { Write-Parameter $Writer $p $null }
    $Writer.WriteEndElement()

    Write-TypeList $Writer 'inputTypes' 'inputType' $Help.Inputs
    Write-TypeList $Writer 'returnValues' 'returnValue' $Help.Outputs

    $Writer.WriteStartElement('alertSet', $NsMaml)
    $Writer.WriteStartElement('alert', $NsMaml)
    Write-Para $Writer $Help.Notes
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('examples', $NsCommand)
    foreach ($example in $Help.Examples) {
        $Writer.WriteStartElement('example', $NsCommand)
        $Writer.WriteElementString('title', $NsMaml, "--------- $($example.Title) ---------")
        $Writer.WriteStartElement('introduction', $NsMaml)
        $Writer.WriteElementString('para', $NsMaml, '')
        $Writer.WriteEndElement()
        $Writer.WriteElementString('code', $NsDev, $example.Code)
        $Writer.WriteStartElement('remarks', $NsDev)
        Write-Para $Writer $example.Remarks
        # An empty paragraph sets the next example apart from these remarks.
        $Writer.WriteElementString('para', $NsMaml, '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('relatedLinks', $NsCommand)
    foreach ($link in $Help.Links) {
        $Writer.WriteStartElement('navigationLink', $NsMaml)
        $Writer.WriteElementString('linkText', $NsMaml, $link.Text)
        $Writer.WriteElementString('uri', $NsMaml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

# A relative path must not be taken for a module name.
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$module = Import-Module $ModulePath -Force -PassThru -ErrorAction Stop
$commands = @($module.ExportedCmdlets.Values | Sort-Object Name)
if ($commands.Count -eq 0) { throw "The module at '$ModulePath' exports no cmdlets." }
if (-not (Test-Path -LiteralPath $HelpPath -PathType Container)) {
    if (-not $UpdateMarkdown) { throw "The help folder '$HelpPath' does not exist." }
    $null = New-Item -ItemType Directory -Path $HelpPath
}
$HelpPath = (Resolve-Path -LiteralPath $HelpPath).ProviderPath

$problems = [System.Collections.Generic.List[string]]::new()
$warnings = [System.Collections.Generic.List[string]]::new()
$entries = [System.Collections.Generic.List[object]]::new()

foreach ($file in Get-ChildItem -LiteralPath $HelpPath -Filter '*.md' -File) {
    if (-not ($commands | Where-Object Name -EQ $file.BaseName)) {
        $problems.Add("$($file.Name): the module has no cmdlet '$($file.BaseName)'.")
    }
}

foreach ($command in $commands) {
    $path = Join-Path $HelpPath "$($command.Name).md"
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        if ($UpdateMarkdown) {
            [System.IO.File]::WriteAllText($path, (New-MarkdownSkeleton $command $module.Name), [System.Text.UTF8Encoding]::new($false))
            Write-Host "Created $path; fill in its placeholders."
        } else {
            $problems.Add("$($command.Name): there is no help file $path.")
            continue
        }
    }

    $parameters = Get-ParameterInfo $command
    $doc = Split-Markdown $path
    $file = Split-Path -Leaf $path
    if ($doc.Title -ne $command.Name) { $problems.Add("${file}: the title is '$($doc.Title)', not '# $($command.Name)'.") }
    $localProblems = [System.Collections.Generic.List[string]]::new()
    $help = Read-CommandHelp $doc $localProblems

    foreach ($p in $parameters) {
        $described = $help.Parameters[$p.Name]
        if ($null -ne $described) {
            $p.Description = $described.Description
            $p.Default = $p.CodeDefault
            if ($described.MarkdownDefault -and $described.MarkdownDefault -ne 'None' -and
                (-not $p.Default -or ($p.Default -eq '0' -and $described.MarkdownDefault -notmatch '^0\b'))) {
                # The code shows no default (a zero enum value, say), or only the zero of a number that is not
                # a default at all (Set-SocketOption -LingerSec: absent means unchanged, not 0): the markdown's
                # yaml block may name it.
                $p.Default = $described.MarkdownDefault
            }
        } else {
            $p.Default = $p.CodeDefault
        }
        if (-not (Test-Prose $p.Description)) { $localProblems.Add("${file}: the parameter -$($p.Name) has no description.") }
    }
    foreach ($name in $help.Parameters.Keys) {
        if (-not ($parameters | Where-Object Name -EQ $name)) { $localProblems.Add("${file}: describes -$name, which $($command.Name) does not have.") }
    }

    # The SYNTAX section and yaml blocks of the markdown are for its readers: say when they lag behind the code.
    $syntax = Get-MarkdownSyntax $command $parameters
    $paramLines = Get-MarkdownParameters $parameters $help.Parameters
    if ($UpdateMarkdown) {
        Update-MarkdownFile $path $syntax $paramLines
    } else {
        $normalize = { param($lines) (($lines | ForEach-Object { $_.TrimEnd() }) -join "`n").Trim() }
        $section = Get-Section $doc 'SYNTAX'
        $current = if ($section) { @($section.Lines) + @($section.Subsections | ForEach-Object { "### $($_.Title)"; $_.Lines }) } else { @() }
        $section = Get-Section $doc 'PARAMETERS'
        $currentParams = if ($section) { @($section.Lines) + @($section.Subsections | ForEach-Object { "### $($_.Title)"; $_.Lines }) } else { @() }
        if ((& $normalize $current) -ne (& $normalize $syntax) -or (& $normalize $currentParams) -ne (& $normalize $paramLines)) {
            $warnings.Add("${file}: the SYNTAX section or a parameter's yaml block differs from the code (the MAML uses the code). Run build/New-MamlHelp.ps1 with -UpdateMarkdown to refresh them.")
        }
    }

    $problems.AddRange($localProblems)
    $entries.Add([pscustomobject]@{ Command = $command; Help = $help; Parameters = $parameters })
}

foreach ($w in $warnings) { Write-Warning $w }
if ($problems.Count -gt 0) {
    # One plain line per problem, so a build log lists them all readably.
    foreach ($problem in $problems) { [Console]::Error.WriteLine("help: $problem") }
    throw "The help in '$HelpPath' is incomplete: $($problems.Count) problem(s), listed above."
}

$outDir = Split-Path -Parent ([System.IO.Path]::GetFullPath($OutFile))
if (-not (Test-Path -LiteralPath $outDir)) { $null = New-Item -ItemType Directory -Path $outDir }
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$writer = [System.Xml.XmlWriter]::Create([System.IO.Path]::GetFullPath($OutFile), $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', 'http://msh')
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($entry in $entries) { Write-Command $writer $entry.Command $entry.Help $entry.Parameters }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
} finally {
    $writer.Dispose()
}

# A last check that the file is well-formed XML that holds every cmdlet.
$xml = [System.Xml.XmlDocument]::new()
$xml.Load([System.IO.Path]::GetFullPath($OutFile))
$ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
$ns.AddNamespace('command', $NsCommand)
$written = $xml.SelectNodes('//command:command/command:details/command:name', $ns).Count
if ($written -ne $commands.Count) { throw "$OutFile holds $written commands, not $($commands.Count)." }
Write-Host "Wrote help for $written cmdlets to $OutFile"
