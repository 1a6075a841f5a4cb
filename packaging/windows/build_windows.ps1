# Build vizvm's Windows one-folder app and self-test it (not run by the project's CI:
# it needs Windows; see packaging/README.md).
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
#
# Makes dist\vizvm\ with vizvm.exe (console: commands, and the window with no command) and
# vizvm-window.exe (the window, no console: for a Start-menu shortcut), then
# dist\vizvm-VERSION-windows-amd64.zip. Python 3.11+ (x86-64) from python.org or the
# `py` launcher; set $env:PYTHON to choose one.
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
$Build = Join-Path $Root "build\windows"
$Dist = Join-Path $Root "dist"
$Python = if ($env:PYTHON) { $env:PYTHON } else { "py" }

function Run($exe, [string[]]$arguments) {
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "$exe $arguments ended with exit status $LASTEXITCODE" }
}

$started = Get-Date
Remove-Item -Recurse -Force $Build, (Join-Path $Dist "vizvm") -ErrorAction SilentlyContinue
Run $Python @("-m", "venv", "$Build\venv")
$Py = Join-Path $Build "venv\Scripts\python.exe"
Run $Py @("-m", "pip", "install", "--disable-pip-version-check", "$Root[authoring]",
          "pyinstaller>=6.10,<7")
$Version = (& $Py -c "import vizvm; print(vizvm.__version__)").Trim()
Run $Py @("$Root\packaging\render_icons.py", "$Root\build\icons")
Push-Location $Root
try {
    Run $Py @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
              "--distpath", $Dist, "--workpath", "$Build\pyinstaller", "packaging\vizvm.spec")
} finally { Pop-Location }

$Zip = Join-Path $Dist "vizvm-$Version-windows-amd64.zip"
Compress-Archive -Path (Join-Path $Dist "vizvm") -DestinationPath $Zip -Force

# self-test: offscreen, with a data folder of its own
$Smoke = Join-Path $env:TEMP ("vizvm-smoke-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $Smoke | Out-Null
$env:QT_QPA_PLATFORM = "offscreen"
$env:VIZVM_DATA_DIR = $Smoke
& (Join-Path $Dist "vizvm\vizvm.exe") self-test
$status = $LASTEXITCODE
Remove-Item Env:QT_QPA_PLATFORM, Env:VIZVM_DATA_DIR
Remove-Item -Recurse -Force $Smoke
$seconds = [int]((Get-Date) - $started).TotalSeconds
Write-Host "app: $Dist\vizvm; zip: $Zip; $seconds s"
if ($status -ne 0) { throw "self-test failed (exit status $status)" }
Write-Host "self-test passed"
