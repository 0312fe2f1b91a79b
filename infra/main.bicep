// Sandbox Functions on Azure Functions Flex Consumption: the function app (.NET 10 on the isolated worker),
// one storage account for the Functions host and for session state, a user-assigned identity that reaches
// storage, monitoring and Key Vault without any key, and a Key Vault holding the snapshot keys.
//
// Each app setting is a one-line object holding its name and then its value. The repository's tests read the
// names from this file and check them against the settings the app reads, so keep that shape.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------

@description('Region of every resource. Flex Consumption runs in a subset of regions: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('Short prefix for resource names, letters and digits only; a hash of the subscription, resource group and prefix keeps global names unique.')
@minLength(2)
@maxLength(9)
param namePrefix string = 'sandbox'

@description('Name of the function app, which is also the host name: https://<name>.azurewebsites.net/mcp.')
param functionAppName string = '${namePrefix}-${uniqueString(subscription().id, resourceGroup().id, namePrefix)}'

@description('Memory of each instance in MB. A large-flavor sandbox alone may use 2 GiB of guest memory, hence 4096.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 4096

@description('The most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Instances kept running for the HTTP functions (mcp, health) even when idle, to avoid cold starts. They are billed while idle; 0 lets the app scale to zero.')
@minValue(0)
param alwaysReadyInstances int = 0

@description('Comma-separated browser origins allowed to call /mcp (Mcp__AllowedOrigins); empty allows only non-browser clients.')
param allowedOrigins string = ''

@description('The largest MCP request body in bytes (Mcp__MaxRequestBodyBytes).')
@minValue(1024)
@maxValue(268435456)
param maxRequestBodyBytes int = 4194304

@description('Idle time after which a session expires when its creator asks for none (Sessions__DefaultTtl, d.hh:mm:ss).')
param sessionDefaultTtl string = '01:00:00'

@description('The longest idle time a caller may ask for (Sessions__MaxTtl, d.hh:mm:ss).')
param sessionMaxTtl string = '7.00:00:00'

@description('Sessions one function key may hold at once (Sessions__MaxSessionsPerOwner).')
@minValue(1)
param maxSessionsPerOwner int = 50

@description('Executions running at once per instance (Sandbox__MaxConcurrentExecutions); 0 keeps the app default of 8, or twice the processor count if that is more.')
@minValue(0)
param maxConcurrentExecutions int = 0

@description('Executions allowed to wait per instance before calls are refused as busy (Sandbox__MaxQueuedExecutions).')
@minValue(0)
param maxQueuedExecutions int = 64

@description('Guest memory per instance kept in live sandboxes between calls, in MiB (Sandbox__WarmCacheMiB).')
@minValue(0)
param warmCacheMiB int = 512

@description('Timeout of a background job that asks for none, in seconds (Jobs__DefaultTimeoutSeconds).')
@minValue(1)
param jobDefaultTimeoutSeconds int = 600

@description('The longest a background job may run, in seconds (Jobs__MaxTimeoutSeconds). It must stay under host.json\'s functionTimeout of 01:30:00.')
@minValue(1)
@maxValue(5340)
param jobMaxTimeoutSeconds int = 3600

@description('When the reaper function deletes expired sessions and unreferenced snapshots (Sessions__ReapSchedule), as a six-field CRON expression: second minute hour day month weekday.')
param reapSchedule string = '0 */5 * * * *'

@description('Read-only data volumes sessions find under /data/<name>, each a blob container of the storage account, e.g. [{ name: \'catalog\', container: \'catalog\' }]. Optional per volume: prefix (only blobs under it show), flavors (comma-separated; default every flavor), maxBytesPerCall. Each container is created when missing, and the app\'s identity is given Storage Blob Data Reader on it.')
param dataVolumes array = []

@description('Flavor overrides as \'<flavor>__<setting>\': value, e.g. { \'large__MemoryMiB\': 3072 }; each becomes Flavors__<flavor>__<setting>. A new flavor name needs all six settings.')
param flavorOverrides object = {}

@description('Python package index for install_package (Packages__IndexUrl), e.g. a private mirror\'s simple API; empty turns install_package off.')
param packageIndexUrl string = ''

@description('Base64 key (at least 32 bytes) that signs snapshots. It is written to Key Vault only when given: give it on the first deployment (openssl rand -base64 48) and when rotating, and leave it empty afterwards so the stored key stays.')
@secure()
param snapshotSigningKey string = ''

@description('Base64 secret (at least 32 bytes) that owner ids are derived under, so that the storage account does not reveal which function key owns what. It is written to Key Vault only when given: give it on the first deployment (openssl rand -base64 48) and leave it empty afterwards so the stored secret stays. Changing it later hides every existing session.')
@secure()
param ownerSecret string = ''

@description('Encrypt snapshots at rest with AES-GCM (Snapshots__EncryptionKey from Key Vault). Needs snapshotEncryptionKey on the deployment that turns it on.')
param encryptSnapshots bool = false

@description('Base64 AES-256 key (exactly 32 bytes: openssl rand -base64 32), written to Key Vault when given.')
@secure()
param snapshotEncryptionKey string = ''

@description('Also accept snapshots protected with earlier keys (Snapshots__PreviousKeys from Key Vault), for a key rotation. Needs snapshotPreviousKeys on the deployment that turns it on.')
param acceptPreviousSnapshotKeys bool = false

@description('Comma-separated base64 keys used before a rotation, written to Key Vault when given.')
@secure()
param snapshotPreviousKeys string = ''

// ---------------------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------------------

var token = uniqueString(subscription().id, resourceGroup().id, namePrefix)
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var storageAccountName = 'st${take(compactPrefix, 9)}${token}'
var keyVaultName = 'kv${take(compactPrefix, 9)}${token}'
var deploymentContainerName = 'app-package'

// The app creates these itself when they are missing; creating them here means the identity needs data roles only.
var tableNames = ['sessions', 'owners', 'jobs', 'signals', 'history']
var blobContainerNames = ['snapshots', 'jobinputs']
var queueNames = ['jobs', 'jobs-poison']

var signingKeySecretName = 'snapshot-signing-key'
var ownerSecretName = 'owner-id-secret'
var encryptionKeySecretName = 'snapshot-encryption-key'
var previousKeysSecretName = 'snapshot-previous-keys'

// Built-in role definition IDs: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var roles = {
  // Leases, host keys and the deployment package of the Functions host (AzureWebJobsStorage), plus snapshots and job inputs.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Reading the data volumes' containers.
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  // Session records, jobs, cancel signals and history.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // The jobs queue, read by the queue trigger and written by the app; the host also needs it for its own queues.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Telemetry to Application Insights with Microsoft Entra ID instead of an instrumentation key.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Resolving the Key Vault references in app settings.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// ---------------------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${token}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${token}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Only Microsoft Entra ID may send telemetry, so the connection string alone is no credential.
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${token}'
  location: location
}

// ---------------------------------------------------------------------------------------------------------
// Storage: the Functions host, the deployment package and session state share one account
// ---------------------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    // Every client authenticates with Microsoft Entra ID; account keys would be a second, unaudited way in.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in blobContainerNames: {
  parent: blobService
  name: name
  properties: {
    publicAccess: 'None'
  }
}]

resource dataVolumeContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for volume in dataVolumes: {
  parent: blobService
  name: volume.container
  properties: {
    publicAccess: 'None'
  }
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for name in tableNames: {
  parent: tableService
  name: name
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for name in queueNames: {
  parent: queueService
  name: name
}]

// ---------------------------------------------------------------------------------------------------------
// Key Vault for the snapshot keys
// ---------------------------------------------------------------------------------------------------------

// Key Vault references rather than keys generated into app settings: a template cannot tell a first deployment
// from a later one, so a generated key would change on every deployment and make existing snapshots unreadable.
// A secret written only when a key is passed survives redeployments, and rotating it is a new secret version.
resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource signingKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(snapshotSigningKey)) {
  parent: keyVault
  name: signingKeySecretName
  properties: {
    value: snapshotSigningKey
    contentType: 'base64 HMAC-SHA256 key'
  }
}

resource ownerSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(ownerSecret)) {
  parent: keyVault
  name: ownerSecretName
  properties: {
    value: ownerSecret
    contentType: 'base64 HMAC-SHA256 key'
  }
}

resource encryptionKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(snapshotEncryptionKey)) {
  parent: keyVault
  name: encryptionKeySecretName
  properties: {
    value: snapshotEncryptionKey
    contentType: 'base64 AES-256 key'
  }
}

resource previousKeysSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(snapshotPreviousKeys)) {
  parent: keyVault
  name: previousKeysSecretName
  properties: {
    value: snapshotPreviousKeys
    contentType: 'comma-separated base64 keys'
  }
}

// ---------------------------------------------------------------------------------------------------------
// Role assignments for the app's identity
// ---------------------------------------------------------------------------------------------------------

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource dataVolumeReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (volume, i) in dataVolumes: {
  name: guid(storage.id, identity.id, volume.container, roles.storageBlobDataReader)
  scope: dataVolumeContainers[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------------
// App settings
// ---------------------------------------------------------------------------------------------------------

func keyVaultReference(vaultName string, secretName string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

// The Functions host's own storage, through the identity.
var hostStorageSettings = [
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
]

// Telemetry of both the Functions host and the app, sent with the identity's Microsoft Entra ID token.
var telemetrySettings = [
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
]

// Session storage. The queue triggers (jobs and jobs-poison, connection "SessionStorage") need queueServiceUri spelled
// out; the app reads the same settings, so both reach the account the same way.
var storageSettings = [
  { name: 'SessionStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'SessionStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'SessionStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'SessionStorage__credential', value: 'managedidentity' }
  { name: 'SessionStorage__clientId', value: identity.properties.clientId }
]

// The signing key and the owner secret are always referenced: without them snapshots would only be checksummed,
// and owner ids would be derived under the publicly known local secret.
var signingSettings = [
  { name: 'Snapshots__SigningKey', value: keyVaultReference(keyVault.name, signingKeySecretName) }
  { name: 'Auth__OwnerSecret', value: keyVaultReference(keyVault.name, ownerSecretName) }
]
var encryptionSettings = encryptSnapshots ? [{ name: 'Snapshots__EncryptionKey', value: keyVaultReference(keyVault.name, encryptionKeySecretName) }] : []
var previousKeySettings = acceptPreviousSnapshotKeys ? [{ name: 'Snapshots__PreviousKeys', value: keyVaultReference(keyVault.name, previousKeysSecretName) }] : []

var limitSettings = [
  { name: 'Mcp__AllowedOrigins', value: allowedOrigins }
  { name: 'Mcp__MaxRequestBodyBytes', value: string(maxRequestBodyBytes) }
  { name: 'Sessions__DefaultTtl', value: sessionDefaultTtl }
  { name: 'Sessions__MaxTtl', value: sessionMaxTtl }
  { name: 'Sessions__MaxSessionsPerOwner', value: string(maxSessionsPerOwner) }
  { name: 'Sessions__ReapSchedule', value: reapSchedule }
  { name: 'Sandbox__MaxQueuedExecutions', value: string(maxQueuedExecutions) }
  { name: 'Sandbox__WarmCacheMiB', value: string(warmCacheMiB) }
  { name: 'Jobs__DefaultTimeoutSeconds', value: string(jobDefaultTimeoutSeconds) }
  { name: 'Jobs__MaxTimeoutSeconds', value: string(jobMaxTimeoutSeconds) }
  { name: 'Packages__IndexUrl', value: packageIndexUrl }
]
var concurrencySettings = maxConcurrentExecutions > 0 ? [{ name: 'Sandbox__MaxConcurrentExecutions', value: string(maxConcurrentExecutions) }] : []
var flavorSettings = map(items(flavorOverrides), flavor => { name: 'Flavors__${flavor.key}', value: string(flavor.value) })

var dataVolumeSettings = flatten(map(dataVolumes, volume => concat(
  [{ name: 'Volumes__${volume.name}__Container', value: volume.container }],
  empty(volume.?prefix ?? '') ? [] : [{ name: 'Volumes__${volume.name}__Prefix', value: volume.prefix }],
  empty(volume.?flavors ?? '') ? [] : [{ name: 'Volumes__${volume.name}__Flavors', value: volume.flavors }],
  volume.?maxBytesPerCall == null ? [] : [{ name: 'Volumes__${volume.name}__MaxBytesPerCall', value: string(volume.maxBytesPerCall) }]
)))

var appSettings = concat(hostStorageSettings, telemetrySettings, storageSettings, signingSettings, encryptionSettings, previousKeySettings, limitSettings, concurrencySettings, flavorSettings, dataVolumeSettings)

// mcp and health are HTTP-triggered, and Flex Consumption scales all HTTP functions as the one 'http' group.
var alwaysReady = alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []

// ---------------------------------------------------------------------------------------------------------
// Plan and function app
// ---------------------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${token}'
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // The site has no system-assigned identity, so Key Vault references must name the one it has.
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReady
      }
      // The isolated worker: the host starts SandboxFunctions.Functions.dll with the platform's .NET 10 runtime.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
  dependsOn: [
    // The host reads its storage, telemetry and Key Vault references as soon as it starts.
    blobDataOwner
    tableDataContributor
    queueDataContributor
    metricsPublisher
    secretsUser
    deploymentContainer
    blobContainers
    tables
    queues
    signingKeySecret
    ownerSecretValue
    encryptionKeySecret
    previousKeysSecret
  ]
}

// ---------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------

output mcpEndpoint string = 'https://${functionApp.properties.defaultHostName}/mcp'
output functionAppName string = functionApp.name
output storageAccountName string = storage.name
output keyVaultName string = keyVault.name
output deployCommand string = 'az functionapp deployment source config-zip --resource-group ${resourceGroup().name} --name ${functionApp.name} --src artifacts/sandboxfunctions.zip'
output functionKeyCommand string = 'az functionapp keys list --resource-group ${resourceGroup().name} --name ${functionApp.name} --query functionKeys.default --output tsv'
