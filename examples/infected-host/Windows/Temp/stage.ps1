Write-Host "sample"
